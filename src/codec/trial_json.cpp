#include "codec/trial_json.hpp"

#include <cmath>
#include <string>

#include "codec/metrics_json.hpp"
#include "gpbo/error.hpp"
#include "space/params_json.hpp"

namespace gpbo {

using nlohmann::json;

json intermediate_to_json(const std::vector<IntermediateValue>& values) {
  json out = json::array();
  for (const IntermediateValue& v : values) out.push_back(json::array({v.step, v.value}));
  return out;
}

std::vector<IntermediateValue> intermediate_from_json(const json& j) {
  if (!j.is_array()) throw InvalidArgument("intermediate values must be [[step, value], ...]");
  std::vector<IntermediateValue> out;
  for (const json& item : j) {
    if (!item.is_array() || item.size() != 2 || !item[0].is_number_integer() ||
        !item[1].is_number()) {
      throw InvalidArgument("an intermediate value must be [step, value], got " + item.dump());
    }
    const IntermediateValue v{item[0].get<std::int64_t>(), item[1].get<double>()};
    if (v.step < 0 || !std::isfinite(v.value)) {
      throw InvalidArgument("an intermediate value needs a step >= 0 and a finite value, got " +
                            item.dump());
    }
    if (!out.empty() && v.step <= out.back().step) {
      throw InvalidArgument("intermediate values: steps must strictly increase, got " +
                            std::to_string(v.step) + " after " + std::to_string(out.back().step));
    }
    out.push_back(v);
  }
  return out;
}

json trial_to_json(const Trial& t) {
  json out = {{"id", t.id},
              {"state", to_string(t.state)},
              {"params", params_to_json(t.params)},
              {"value", t.value ? json(*t.value) : json(nullptr)},
              {"worker_id", t.worker_id},
              {"source", t.source},
              {"created_at", t.created_at},
              {"finished_at", t.finished_at},
              {"lease_deadline", t.lease_deadline}};
  if (!t.values.empty()) out["values"] = metric_values_to_json(t.values);
  if (!t.intermediate.empty()) out["intermediate"] = intermediate_to_json(t.intermediate);
  return out;
}

json trials_to_json(const std::vector<Trial>& trials) {
  json arr = json::array();
  for (const Trial& t : trials) arr.push_back(trial_to_json(t));
  return {{"trials", std::move(arr)}};
}

Trial trial_from_json(const json& j) {
  try {
    Trial t;
    t.id = j.at("id").get<std::int64_t>();
    t.state = parse_trial_state(j.at("state").get<std::string>());
    t.params = decode_params(j.at("params"));
    if (!j.at("value").is_null()) t.value = j.at("value").get<double>();
    t.worker_id = j.at("worker_id").get<std::string>();
    t.source = j.at("source").get<std::string>();
    t.created_at = j.at("created_at").get<double>();
    t.finished_at = j.at("finished_at").get<double>();
    t.lease_deadline = j.at("lease_deadline").get<double>();
    if (j.contains("values")) t.values = metric_values_from_json(j.at("values"));
    if (j.contains("intermediate")) t.intermediate = intermediate_from_json(j.at("intermediate"));
    return t;
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed trial JSON: ") + e.what());
  }
}

std::vector<Trial> trials_from_json(const json& j) {
  if (!j.is_object() || !j.contains("trials") || !j.at("trials").is_array()) {
    throw InvalidArgument("malformed trial list: expected {\"trials\": [...]}");
  }
  std::vector<Trial> out;
  for (const json& t : j.at("trials")) out.push_back(trial_from_json(t));
  return out;
}

std::vector<Trial> finished_trials_from_json(const json& j, const Space* space) {
  if (!j.is_object() || !j.contains("trials") || !j.at("trials").is_array()) {
    throw InvalidArgument("expected {\"trials\": [{\"params\": {...}, \"value\": ...}, ...]}");
  }
  std::vector<Trial> out;
  const json& items = j.at("trials");
  for (std::size_t i = 0; i < items.size(); ++i) {
    const json& item = items[i];
    const std::string where = "trial " + std::to_string(i) + ": ";
    try {
      if (!item.is_object() || !item.contains("params")) {
        throw InvalidArgument("expected an object with \"params\"");
      }
      Trial t;
      t.params = decode_params(item.at("params"), space);
      const bool has_value = item.contains("value") && !item.at("value").is_null();
      const bool has_values = item.contains("values") && !item.at("values").is_null();
      t.state = item.contains("state") ? parse_trial_state(item.at("state").get<std::string>())
                                       : TrialState::kComplete;
      if (has_value) {
        if (!item.at("value").is_number()) throw InvalidArgument("\"value\" must be a number");
        t.value = item.at("value").get<double>();
      }
      if (has_values) t.values = metric_values_from_json(item.at("values"));
      if (t.state == TrialState::kComplete && !has_value && !has_values) {
        throw InvalidArgument("a complete trial needs a \"value\" (or \"values\")");
      }
      // A pruned trial may keep its last intermediate value (gpbo/trial.hpp).
      if ((t.state != TrialState::kComplete && has_values) ||
          (t.state != TrialState::kComplete && t.state != TrialState::kPruned && has_value)) {
        throw InvalidArgument("a " + to_string(t.state) + " trial has no \"value\"");
      }
      if (item.contains("intermediate")) {
        t.intermediate = intermediate_from_json(item.at("intermediate"));
      }
      for (const char* key : {"created_at", "finished_at"}) {
        if (!item.contains(key)) continue;
        if (!item.at(key).is_number())
          throw InvalidArgument(std::string(key) + " must be a number");
        (std::string(key) == "created_at" ? t.created_at : t.finished_at) =
            item.at(key).get<double>();
      }
      out.push_back(std::move(t));
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(where + e.what());
    } catch (const json::exception& e) {
      throw InvalidArgument(where + e.what());
    }
  }
  return out;
}

json finished_trials_to_json(const std::vector<Trial>& trials) {
  json arr = json::array();
  for (const Trial& t : trials) {
    json item = {{"params", params_to_json(t.params)}, {"state", to_string(t.state)}};
    if (t.value) item["value"] = *t.value;
    if (!t.values.empty()) item["values"] = metric_values_to_json(t.values);
    if (!t.intermediate.empty()) item["intermediate"] = intermediate_to_json(t.intermediate);
    if (t.created_at > 0.0) item["created_at"] = t.created_at;
    if (t.finished_at > 0.0) item["finished_at"] = t.finished_at;
    arr.push_back(std::move(item));
  }
  return {{"trials", std::move(arr)}};
}

}  // namespace gpbo
