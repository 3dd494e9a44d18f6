package boot

// DepsFromEnv exposes depsFromEnv to the external tests.
var DepsFromEnv = depsFromEnv
