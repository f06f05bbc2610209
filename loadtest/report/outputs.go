package report

import (
	"encoding/json"
	"instainstru/loadtest/config"
	"os"
)

func WriteOutputs(res *Result, cfg config.Config) error {
	if cfg.JSONPath != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(cfg.JSONPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if cfg.HTMLPath != "" {
		f, err := os.Create(cfg.HTMLPath)
		if err != nil {
			return err
		}
		if err := res.WriteHTML(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}
