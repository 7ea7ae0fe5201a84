#include "codec/metrics_json.hpp"

#include <cmath>
#include <string>

#include "common/json_text.hpp"
#include "gpbo/error.hpp"

namespace gpbo {

using nlohmann::json;

json metrics_to_json_value(const Metrics& m) {
  json out = json::object();
  if (m.empty()) return out;
  json objectives = json::array();
  for (const Objective& o : m.objectives) {
    json item = {{"name", o.name}, {"direction", to_string(o.direction)}};
    if (o.reference) item["reference"] = *o.reference;
    objectives.push_back(std::move(item));
  }
  json constraints = json::array();
  for (const OutcomeConstraint& c : m.constraints) {
    constraints.push_back({{"metric", c.metric}, {to_string(c.side), c.bound}});
  }
  out["objectives"] = objectives;
  out["constraints"] = constraints;
  return out;
}

Metrics metrics_from_json_value(const json& j) {
  if (!j.is_object()) throw InvalidArgument("metrics: expected an object");
  Metrics m;
  for (const auto& [key, value] : j.items()) {
    if (key != "objectives" && key != "constraints") {
      throw InvalidArgument("metrics: unknown key '" + key +
                            "' (expected objectives, constraints)");
    }
    if (!value.is_array()) throw InvalidArgument("metrics: '" + key + "' must be an array");
  }
  for (const json& o : j.value("objectives", json::array())) {
    if (!o.is_object() || !o.contains("name") || !o.at("name").is_string()) {
      throw InvalidArgument("metrics: an objective must be {\"name\": ..., \"direction\": ...}");
    }
    Objective obj;
    obj.name = o.at("name").get<std::string>();
    for (const auto& [key, value] : o.items()) {
      if (key == "name") continue;
      if (key == "reference" && value.is_number()) {
        obj.reference = value.get<double>();
        continue;
      }
      if (key != "direction" || !value.is_string()) {
        throw InvalidArgument("metrics: objective '" + obj.name + "': unexpected '" + key +
                              "' (expected direction, reference)");
      }
      obj.direction = parse_direction(value.get<std::string>());
    }
    m.objectives.push_back(obj);
  }
  for (const json& c : j.value("constraints", json::array())) {
    if (!c.is_object() || !c.contains("metric") || !c.at("metric").is_string() || c.size() != 2) {
      throw InvalidArgument(
          "metrics: a constraint must be {\"metric\": NAME, \"<=\": BOUND} (or \">=\")");
    }
    OutcomeConstraint oc;
    oc.metric = c.at("metric").get<std::string>();
    for (const auto& [key, value] : c.items()) {
      if (key == "metric") continue;
      oc.side = parse_bound(key);
      if (!value.is_number()) {
        throw InvalidArgument("metrics: the bound on '" + oc.metric + "' must be a number");
      }
      oc.bound = value.get<double>();
    }
    m.constraints.push_back(oc);
  }
  check_metrics(m);
  return m;
}

json metric_values_to_json(const MetricValues& values) {
  json out = json::object();
  for (const auto& [name, v] : values) out[name] = v;
  return out;
}

MetricValues metric_values_from_json(const json& j) {
  if (!j.is_object()) {
    throw InvalidArgument("values: expected an object of metric values, e.g. {\"acc\": 0.9}");
  }
  MetricValues out;
  for (const auto& [name, v] : j.items()) {
    if (!v.is_number() || !std::isfinite(v.get<double>())) {
      throw InvalidArgument("values: '" + name + "' must be a finite number, not " + json_text(v));
    }
    out[name] = v.get<double>();
  }
  return out;
}

std::string metrics_to_json(const Metrics& metrics) {
  return json_text(metrics_to_json_value(metrics));
}

Metrics metrics_from_json(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw InvalidArgument("metrics: not valid JSON");
  return metrics_from_json_value(j);
}

}  // namespace gpbo
