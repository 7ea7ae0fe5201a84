#include "service/study_json.hpp"

#include <string>

#include "codec/trial_json.hpp"
#include "gpbo/error.hpp"

namespace gpbo::service {

using nlohmann::json;

json study_to_json(const StudyInfo& s) {
  return {{"name", s.name},
          {"direction", to_string(s.direction)},
          {"created_at", s.created_at},
          {"space", json::parse(s.space_json)},
          {"options", json::parse(s.options_json)}};
}

StudyInfo study_from_json(const json& j) {
  try {
    StudyInfo s;
    s.name = j.at("name").get<std::string>();
    s.direction = parse_direction(j.at("direction").get<std::string>());
    s.created_at = j.at("created_at").get<double>();
    s.space_json = j.at("space").dump();
    s.options_json = j.at("options").dump();
    return s;
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed study JSON: ") + e.what());
  }
}

json log_to_json(const std::vector<LogEntry>& log) {
  json arr = json::array();
  for (const LogEntry& e : log) {
    arr.push_back({{"time", e.time},
                   {"event", e.event},
                   {"trial_id", e.trial_id},
                   {"worker_id", e.worker_id},
                   {"detail", json::parse(e.detail_json)}});
  }
  return {{"log", std::move(arr)}};
}

std::vector<LogEntry> log_from_json(const json& j) {
  try {
    std::vector<LogEntry> out;
    for (const json& e : j.at("log")) {
      out.push_back({e.at("time").get<double>(), e.at("event").get<std::string>(),
                     e.at("trial_id").get<std::int64_t>(), e.at("worker_id").get<std::string>(),
                     e.at("detail").dump()});
    }
    return out;
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed log JSON: ") + e.what());
  }
}

json pareto_to_json(const ParetoFront& front, const Metrics& metrics) {
  json names = json::array();
  if (metrics.empty()) names.push_back("value");
  for (const Objective& o : metrics.objectives) names.push_back(o.name);
  const bool several = metrics.multi_objective();
  json out = trials_to_json(front.trials);
  out["objectives"] = names;
  out["reference_point"] = several ? json(front.reference_point) : json(nullptr);
  out["hypervolume"] = several ? json(front.hypervolume) : json(nullptr);
  return out;
}

ParetoFront pareto_from_json(const json& j) {
  try {
    ParetoFront out;
    out.trials = trials_from_json(j);
    if (!j.at("reference_point").is_null()) {
      out.reference_point = j.at("reference_point").get<std::vector<double>>();
    }
    if (!j.at("hypervolume").is_null()) out.hypervolume = j.at("hypervolume").get<double>();
    return out;
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed Pareto front JSON: ") + e.what());
  }
}

}  // namespace gpbo::service
