package metering

// SortBothForTest exposes sortBoth to the tests.
var SortBothForTest = sortBoth
