#include "engine/trial_json.hpp"

#include "space/params_json.hpp"

namespace gpbo {

nlohmann::json trial_to_json(const StoredTrial& t) {
  nlohmann::json j = {{"id", t.id},
                      {"state", to_string(t.state)},
                      {"params", params_to_json(t.params)},
                      {"worker_id", t.worker_id},
                      {"source", t.source},
                      {"created_at", t.created_at},
                      {"finished_at", t.finished_at},
                      {"lease_deadline", t.lease_deadline}};
  j["value"] = t.value ? nlohmann::json(*t.value) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json trials_to_json(const std::vector<StoredTrial>& trials) {
  nlohmann::json arr = nlohmann::json::array();
  for (const StoredTrial& t : trials) arr.push_back(trial_to_json(t));
  return {{"trials", std::move(arr)}};
}

}  // namespace gpbo
