package zuora

// Status names. Codes 1–13 come from Zuora's RunStatusResponse enum; Unknown is
// this package's name for a code or description it does not recognise (the enum
// has grown before, so an unknown value is reported, never treated as an error).
const (
	NeverRun         = "NEVER_RUN"
	Testing          = "TESTING"
	TestingFailed    = "TESTING_FAILED"
	TestingPassed    = "TESTING_PASSED"
	Running          = "RUNNING"
	Paused           = "PAUSED"
	Completed        = "COMPLETED"
	Failed           = "FAILED"
	Canceled         = "CANCELED"
	Initializing     = "INITIALIZING"
	UsagePushing     = "USAGE_PUSHING"
	PushCompleted    = "PUSH_COMPLETED"
	ConsumeCompleted = "CONSUME_COMPLETED"
	Unknown          = "UNKNOWN"
)

type statusInfo struct {
	name     string
	terminal bool
	failed   bool
}

// statuses is indexed by Zuora's integer code. The terminal and failed flags are
// our reading of the names: NEVER_RUN is neither running nor finished, so it is
// not terminal; TESTING_FAILED is a failed debug run.
var statuses = [...]statusInfo{
	1:  {NeverRun, false, false},
	2:  {Testing, false, false},
	3:  {TestingFailed, true, true},
	4:  {TestingPassed, true, false},
	5:  {Running, false, false},
	6:  {Paused, false, false},
	7:  {Completed, true, false},
	8:  {Failed, true, true},
	9:  {Canceled, true, false},
	10: {Initializing, false, false},
	11: {UsagePushing, false, false},
	12: {PushCompleted, false, false},
	13: {ConsumeCompleted, false, false},
}

// StatusNames lists every known status name in code order, then Unknown.
func StatusNames() []string {
	names := make([]string, 0, len(statuses))
	for _, s := range statuses[1:] {
		names = append(names, s.name)
	}
	return append(names, Unknown)
}

// IsStatusName reports whether name is a known status name or Unknown.
func IsStatusName(name string) bool {
	if name == Unknown {
		return true
	}
	for _, s := range statuses[1:] {
		if s.name == name {
			return true
		}
	}
	return false
}

// lookupStatus turns Zuora's code and description into a canonical name and flags.
// A code outside the table, or a description that names another status than the
// code does, gives Unknown: the raw values are kept by the caller either way.
func lookupStatus(code int, description string) statusInfo {
	if code <= 0 || code >= len(statuses) {
		return statusInfo{name: Unknown}
	}
	s := statuses[code]
	if description != "" && description != s.name {
		return statusInfo{name: Unknown}
	}
	return s
}

// StatusNamed is the RunStatus a status name stands for, as if Zuora had
// answered with it: the code and flags of a known name; for another, Unknown
// with code 0. The name is kept as the description either way. Zuora's
// notifications (callouts) carry names, not codes.
func StatusNamed(name string) RunStatus {
	for code, s := range statuses {
		if code > 0 && s.name == name {
			return RunStatus{Code: code, Description: name, Name: name, Terminal: s.terminal, Failed: s.failed}
		}
	}
	return RunStatus{Description: name, Name: Unknown}
}
