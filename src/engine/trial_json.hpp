#pragma once
// The JSON form of a stored trial that every front door prints (CLI, C API):
// {"id", "state", "params", "value" (null until complete), "worker_id", "source",
//  "created_at", "finished_at", "lease_deadline"}.

#include <nlohmann/json.hpp>
#include <vector>

#include "gpbo/storage.hpp"

namespace gpbo {

nlohmann::json trial_to_json(const StoredTrial& t);
/// {"trials": [...]}
nlohmann::json trials_to_json(const std::vector<StoredTrial>& trials);

}  // namespace gpbo
