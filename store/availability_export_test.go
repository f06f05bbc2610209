package store

// BlocksTimeSQL is blocksTimeSQL, for the tests of package store_test.
var BlocksTimeSQL = blocksTimeSQL
