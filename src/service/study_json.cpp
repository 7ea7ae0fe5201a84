#include "service/study_json.hpp"

#include <string>

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

}  // namespace gpbo::service
