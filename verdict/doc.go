// Package verdict is the station's vocabulary of decisions: the decision
// (PASS, REVIEW, REJECT), the patch zones, the thresholds and their
// station ranges, Decide (patch probabilities and cautions to a verdict),
// the operator's override rule (Final, ReasonRequired), and the record of
// one inspected strip with the identity of the model that judged it.
//
// It is pure data and arithmetic, free of ONNX Runtime and cgo: the
// packages that only record, export or publish a decision (the audit
// trail, reports, archive, central, MQTT, OPC UA) import it and not the
// engine. Package inference produces the probabilities it decides on.
package verdict
