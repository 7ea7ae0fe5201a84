#pragma once
// The JSON forms of a study and of its log, as `gpbo serve` returns them and the CLI prints
// them: {"name", "direction", "created_at", "space", "options"} and {"time", "event",
// "trial_id", "worker_id", "detail"}.

#include <nlohmann/json.hpp>
#include <vector>

#include "gpbo/storage.hpp"

namespace gpbo::service {

nlohmann::json study_to_json(const StudyInfo& info);
/// Reads that form back (the client side); InvalidArgument if malformed.
StudyInfo study_from_json(const nlohmann::json& j);

/// {"log": [{"time", "event", "trial_id", "worker_id", "detail"}, ...]}
nlohmann::json log_to_json(const std::vector<LogEntry>& log);
/// Reads that form back; InvalidArgument if malformed.
std::vector<LogEntry> log_from_json(const nlohmann::json& j);

}  // namespace gpbo::service
