#include "codec/warm_start_json.hpp"

#include <cmath>

#include "gpbo/error.hpp"
#include "space/params_json.hpp"

namespace gpbo {

using nlohmann::json;

json warm_start_source_to_json(const WarmStartSource& s) {
  json obs = json::array();
  for (const WarmStartObservation& o : s.observations) {
    obs.push_back({{"params", params_to_json(o.params)}, {"value", o.value}});
  }
  return {{"study", s.study}, {"direction", to_string(s.direction)}, {"observations", obs}};
}

namespace {

double finite_value(const json& v, const std::string& where) {
  if (!v.is_number()) throw InvalidArgument(where + ": \"value\" must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x)) throw InvalidArgument(where + ": \"value\" must be finite");
  return x;
}

}  // namespace

WarmStartSource warm_start_source_from_json(const json& j) {
  if (!j.is_object()) throw InvalidArgument("warm_start: a source must be an object");
  WarmStartSource s;
  const std::string label =
      j.contains("study") && j.at("study").is_string() ? j.at("study").get<std::string>() : "";
  const std::string where = "warm_start source '" + label + "'";
  if (label.empty()) throw InvalidArgument("warm_start: a source needs a \"study\" name");
  for (const auto& [key, value] : j.items()) {
    if (key != "study" && key != "direction" && key != "observations") {
      throw InvalidArgument(where + ": unknown key \"" + key + "\"");
    }
  }
  s.study = label;
  if (j.contains("direction")) {
    if (!j.at("direction").is_string())
      throw InvalidArgument(where + ": \"direction\" must be a string");
    s.direction = parse_direction(j.at("direction").get<std::string>());
  }
  if (!j.contains("observations") || !j.at("observations").is_array()) {
    throw InvalidArgument(where + ": \"observations\" must be an array");
  }
  for (const json& o : j.at("observations")) {
    if (!o.is_object() || !o.contains("params") || !o.at("params").is_object() ||
        !o.contains("value")) {
      throw InvalidArgument(where + ": each observation is {\"params\": {...}, \"value\": v}");
    }
    s.observations.push_back({decode_params(o.at("params")), finite_value(o.at("value"), where)});
  }
  return s;
}

WarmStartSource warm_start_source_from_export(const json& j, Direction direction,
                                              const std::string& label) {
  const std::string where = "warm start from '" + label + "'";
  if (!j.is_object() || !j.contains("trials") || !j.at("trials").is_array()) {
    throw InvalidArgument(where +
                          ": not an exported study ({\"study\": ..., \"trials\": [...]}, "
                          "as gpbo export writes)");
  }
  WarmStartSource s;
  s.study = label;
  s.direction = direction;
  if (j.contains("direction")) {
    if (!j.at("direction").is_string())
      throw InvalidArgument(where + ": \"direction\" must be a string");
    s.direction = parse_direction(j.at("direction").get<std::string>());
  }
  for (const json& t : j.at("trials")) {
    if (!t.is_object()) throw InvalidArgument(where + ": a trial is not an object");
    if (!t.contains("state") || t.at("state") != "complete") continue;
    if (!t.contains("value") || t.at("value").is_null()) continue;  // several objectives
    if (!t.contains("params") || !t.at("params").is_object()) {
      throw InvalidArgument(where + ": a complete trial has no \"params\" object");
    }
    s.observations.push_back({decode_params(t.at("params")), finite_value(t.at("value"), where)});
  }
  return s;
}

}  // namespace gpbo
