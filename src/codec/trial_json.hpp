#pragma once
// The JSON form of a trial that every front door prints and reads (CLI, HTTP, C API):
// {"id", "state", "params", "value" (null until complete), "worker_id", "source",
//  "created_at", "finished_at", "lease_deadline"}.

#include <nlohmann/json.hpp>
#include <vector>

#include "gpbo/trial.hpp"

namespace gpbo {

nlohmann::json trial_to_json(const Trial& t);
/// {"trials": [...]}
nlohmann::json trials_to_json(const std::vector<Trial>& trials);
/// Reads trial_to_json's form back without the space (params typed by their JSON: trial_to_json
/// writes a float with a fraction or an exponent, so this is exact). InvalidArgument if
/// malformed.
Trial trial_from_json(const nlohmann::json& j);
/// Reads {"trials": [...]}; InvalidArgument if malformed.
std::vector<Trial> trials_from_json(const nlohmann::json& j);

}  // namespace gpbo
