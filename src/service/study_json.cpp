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
                   {"detail", json::parse(e.detail_json)},
                   {"writer", e.writer},
                   {"seq", e.seq},
                   {"prev_hash", e.prev_hash},
                   {"hash", e.hash}});
  }
  return {{"log", std::move(arr)}};
}

std::vector<LogEntry> log_from_json(const json& j) {
  try {
    std::vector<LogEntry> out;
    for (const json& e : j.at("log")) {
      LogEntry entry;
      entry.time = e.at("time").get<double>();
      entry.event = e.at("event").get<std::string>();
      entry.trial_id = e.at("trial_id").get<std::int64_t>();
      entry.worker_id = e.at("worker_id").get<std::string>();
      entry.detail_json = e.at("detail").dump();
      entry.writer = e.value("writer", "");
      // The detail as JSON reformats the stored text: the hash is the server's to check.
      entry.seq = e.value("seq", std::int64_t{-1});
      entry.prev_hash = e.value("prev_hash", "");
      entry.hash = e.value("hash", "");
      out.push_back(std::move(entry));
    }
    return out;
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed log JSON: ") + e.what());
  }
}

json verify_report_to_json(const VerifyReport& r) {
  json problem = nullptr;
  if (!r.ok) {
    problem = {{"kind", r.kind},      {"position", r.position}, {"seq", r.seq},
               {"event", r.event},    {"trial_id", r.trial_id}, {"field", r.field},
               {"message", r.message}};
  }
  return {{"ok", r.ok},
          {"entries", r.entries},
          {"trials", r.trials},
          {"head", r.head},
          {"problem", problem}};
}

VerifyReport verify_report_from_json(const json& j) {
  try {
    VerifyReport r;
    r.ok = j.at("ok").get<bool>();
    r.entries = j.at("entries").get<std::int64_t>();
    r.trials = j.at("trials").get<std::int64_t>();
    r.head = j.at("head").get<std::string>();
    const json& p = j.at("problem");
    if (!p.is_null()) {
      r.kind = p.at("kind").get<std::string>();
      r.position = p.at("position").get<std::int64_t>();
      r.seq = p.at("seq").get<std::int64_t>();
      r.event = p.at("event").get<std::string>();
      r.trial_id = p.at("trial_id").get<std::int64_t>();
      r.field = p.at("field").get<std::string>();
      r.message = p.at("message").get<std::string>();
    }
    return r;
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed verify JSON: ") + e.what());
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

json cost_to_json(const StudyCost& c) {
  return {{"trials", c.trials},       {"complete", c.complete}, {"pruned", c.pruned},
          {"failed", c.failed},       {"running", c.running},   {"trial_seconds", c.trial_seconds},
          {"reporting", c.reporting}, {"steps", c.steps},       {"steps_full", c.steps_full}};
}

StudyCost cost_from_json(const json& j) {
  try {
    StudyCost c;
    c.trials = j.at("trials").get<std::int64_t>();
    c.complete = j.at("complete").get<std::int64_t>();
    c.pruned = j.at("pruned").get<std::int64_t>();
    c.failed = j.at("failed").get<std::int64_t>();
    c.running = j.at("running").get<std::int64_t>();
    c.trial_seconds = j.at("trial_seconds").get<double>();
    c.reporting = j.at("reporting").get<std::int64_t>();
    c.steps = j.at("steps").get<std::int64_t>();
    c.steps_full = j.at("steps_full").get<std::int64_t>();
    return c;
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed cost JSON: ") + e.what());
  }
}

json drift_to_json(const DriftOptions& options, const std::vector<DriftCheck>& checks) {
  json all = json::array(), shifts = json::array();
  for (const DriftCheck& c : checks) {
    all.push_back({{"trial", c.trial_id}, {"z", c.z}, {"shift", c.shift}});
    if (c.shift) shifts.push_back(c.trial_id);
  }
  return {{"mode", to_string(options.mode)},
          {"shift_threshold", options.shift_threshold},
          {"reevaluations", checks.size()},
          {"checks", std::move(all)},
          {"shifts", std::move(shifts)}};
}

}  // namespace gpbo::service
