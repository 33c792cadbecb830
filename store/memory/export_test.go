package memory

// Exported for the external tests of this package.
var Fdatasync = fdatasync
