// The page's one live connection: live.js wired to the REST session (ticket,
// token refresh) and to the #conn indicator in the header.
import { createLive } from './live.js';
import { api, auth, refreshTokens } from './api.js';
import { $ } from './dom.js';

export const live = createLive({
  url: () => (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws',
  ticket: async () => (auth.access ? (await api('POST', '/ws/ticket')).ticket : null),
  onState: (state, text) => {
    $('#conn').dataset.state = state;
    $('#conn-text').textContent = text;
  },
  onUnauthorized: () => { if (auth.user) refreshTokens(); },
});
