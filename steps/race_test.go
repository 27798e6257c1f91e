//go:build race

package steps_test

// raceDetector is set when the tests run with -race, which makes each
// suite run about twenty times slower (the pure Go SQLite most): the tests
// then run fewer variants, enough to exercise every step's code.
const raceDetector = true
