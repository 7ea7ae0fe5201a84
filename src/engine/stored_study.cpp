#include "engine/stored_study.hpp"

namespace gpbo {

using nlohmann::json;

StoredStudy StoredStudy::load(const StudyInfo& info) {
  StoredStudy s;
  s.space = Space::from_json(info.space_json);
  study_options_from_json(info.options_json, &s.options, &s.persistence);
  s.options.direction = info.direction;
  s.options = with_objective_direction(std::move(s.options));
  s.state = EngineState::parse(info.state_json, s.space);
  return s;
}

LogEntry log_entry(double now, const char* event, const Trial& t, const json& detail) {
  LogEntry e;
  e.time = now;
  e.event = event;
  e.trial_id = t.id;
  e.worker_id = t.worker_id;
  e.detail_json = detail.dump();
  e.writer = current_writer();
  return e;
}

void renew_lease(Trial* t, const PersistenceOptions& p, double now) {
  t->heartbeat_at = now;
  t->lease_deadline = now + p.lease_seconds;
}

void settle_expired(StudyTransaction& tx, const PersistenceOptions& p, EngineState* state,
                    double now) {
  for (Trial t : tx.trials()) {
    if (t.state != TrialState::kRunning || t.lease_deadline <= 0.0 || t.lease_deadline >= now) {
      continue;
    }
    t.state = TrialState::kFailed;
    t.finished_at = now;
    tx.update_trial(t);
    tx.append_log(log_entry(now, "expire", t, {{"requeued", p.requeue_expired}}));
    if (p.requeue_expired) state->queue.insert(state->queue.begin(), {t.params, "requeued"});
  }
}

bool needs_settling(const std::vector<Trial>& stored, const std::string& worker_id, double now) {
  for (const Trial& t : stored) {
    if (t.state != TrialState::kRunning) continue;
    if (t.lease_deadline > 0.0 && t.lease_deadline < now) return true;
    if (!worker_id.empty() && t.worker_id == worker_id) return true;
  }
  return false;
}

}  // namespace gpbo
