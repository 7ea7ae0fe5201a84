#pragma once
// The JSON forms of a study, of its log, of its verification and of its Pareto front, as `gpbo
// serve` returns them and the CLI prints them: {"name", "direction", "created_at", "space",
// "options"}, {"time", "event", "trial_id", "worker_id", "detail", "writer", "seq", "prev_hash",
// "hash"}, {"ok", ...} and {"objectives", "reference_point", "hypervolume", "trials"}.

#include <nlohmann/json.hpp>
#include <vector>

#include "gpbo/storage.hpp"
#include "gpbo/study.hpp"
#include "gpbo/verify.hpp"

namespace gpbo::service {

nlohmann::json study_to_json(const StudyInfo& info);
/// Reads that form back (the client side); InvalidArgument if malformed.
StudyInfo study_from_json(const nlohmann::json& j);

/// {"log": [{"time", "event", "trial_id", "worker_id", "detail", "writer", "seq", "prev_hash",
/// "hash"}, ...]}
nlohmann::json log_to_json(const std::vector<LogEntry>& log);
/// Reads that form back; InvalidArgument if malformed.
std::vector<LogEntry> log_from_json(const nlohmann::json& j);

/// {"ok", "entries", "trials", "head", "problem": null or {"kind", "position", "seq", "event",
/// "trial_id", "field", "message"}}
nlohmann::json verify_report_to_json(const VerifyReport& report);
/// Reads that form back; InvalidArgument if malformed.
VerifyReport verify_report_from_json(const nlohmann::json& j);

/// {"objectives": ["acc", "latency_ms"], "reference_point": [0.5, 100.0], "hypervolume": 12.5,
/// "trials": [...]}; with one objective, "reference_point" and "hypervolume" are null.
nlohmann::json pareto_to_json(const ParetoFront& front, const Metrics& metrics);
/// Reads that form back; InvalidArgument if malformed.
ParetoFront pareto_from_json(const nlohmann::json& j);

/// {"trials", "complete", "pruned", "failed", "running", "trial_seconds", "reporting", "steps",
/// "steps_full"} (StudyCost in gpbo/study.hpp).
nlohmann::json cost_to_json(const StudyCost& cost);
/// Reads that form back; InvalidArgument if malformed.
StudyCost cost_from_json(const nlohmann::json& j);

/// {"mode": "auto", "shift_threshold": 3, "reevaluations": 4, "checks": [{"trial", "z",
/// "shift"}], "shifts": [trial ids]}: a study's drift checks (Study::drift_checks) under its
/// options.
nlohmann::json drift_to_json(const DriftOptions& options, const std::vector<DriftCheck>& checks);

}  // namespace gpbo::service
