/// verify_study: the hash chain of a study's log, and the trials table against a replay of it.
#include "gpbo/verify.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "codec/trial_json.hpp"
#include "gpbo/error.hpp"
#include "space/params_json.hpp"
#include "storage/storage_common.hpp"

namespace gpbo {
namespace {

using nlohmann::json;

/// A trial as the log tells it.
struct Replayed {
  std::string params;  // the params column's JSON text
  TrialState state = TrialState::kRunning;
  std::optional<double> value;
  MetricValues values;
  std::vector<IntermediateValue> intermediate;
};

VerifyReport entry_problem(VerifyReport r, std::int64_t position, const LogEntry& e,
                           const std::string& kind, const std::string& what) {
  r.ok = false;
  r.kind = kind;
  r.position = position;
  r.seq = e.seq;
  r.event = e.event;
  r.trial_id = e.trial_id;
  r.message = "log entry " + std::to_string(position) + " (sequence number " +
              std::to_string(e.seq) + ", '" + e.event + "'): " + what;
  return r;
}

VerifyReport trial_problem(VerifyReport r, std::int64_t id, const std::string& field,
                           const std::string& what) {
  r.ok = false;
  r.kind = "trial";
  r.trial_id = id;
  r.field = field;
  r.message = "trial " + std::to_string(id) + ": " + what;
  return r;
}

std::string text_of(const std::optional<double>& v) { return v ? json(*v).dump() : "null"; }

/// Checks the chain; the report with ok = false at the first broken entry.
VerifyReport check_chain(const std::string& study, const std::vector<LogEntry>& log) {
  VerifyReport r;
  std::set<std::int64_t> later;
  for (const LogEntry& e : log) later.insert(e.seq);
  std::string previous;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const LogEntry& e = log[i];
    const auto pos = static_cast<std::int64_t>(i);
    r.entries = pos;
    if (e.seq != pos) {
      std::string what;
      if (e.seq < pos) {
        what = "expected sequence number " + std::to_string(pos) +
               ": an entry repeated or moved later (out of order)";
      } else if (later.count(pos) != 0) {
        what = "expected sequence number " + std::to_string(pos) +
               ", which comes later in the log: entries out of order";
      } else {
        what = "expected sequence number " + std::to_string(pos) + ": " +
               (e.seq == pos + 1 ? "entry " + std::to_string(pos) + " is missing"
                                 : "entries " + std::to_string(pos) + " to " +
                                       std::to_string(e.seq - 1) + " are missing");
      }
      return entry_problem(r, pos, e, "sequence", what);
    }
    if (e.prev_hash != previous) {
      return entry_problem(r, pos, e, "prev_hash",
                           "prev_hash is not the previous entry's hash (entries removed, "
                           "inserted or reordered before it)");
    }
    if (log_entry_hash(study, e) != e.hash) {
      return entry_problem(r, pos, e, "hash",
                           "hash mismatch: the entry's content is not what was written");
    }
    previous = e.hash;
    later.erase(e.seq);
  }
  r.entries = static_cast<std::int64_t>(log.size());
  r.head = previous;
  return r;
}

}  // namespace

VerifyReport verify_study(Storage& storage, const std::string& study) {
  std::vector<LogEntry> log;
  std::vector<Trial> trials;
  std::optional<Space> space;
  storage.read(study, [&](StudyTransaction& tx) {
    log = tx.log();
    trials = tx.trials();
    space = storage_detail::stored_space(tx.study());
  });
  VerifyReport r = check_chain(study, log);
  r.trials = static_cast<std::int64_t>(trials.size());
  if (!r.ok) return r;

  // Replay: what the log says each trial is.
  std::map<std::int64_t, Replayed> replayed;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const LogEntry& e = log[i];
    const auto pos = static_cast<std::int64_t>(i);
    const std::string& ev = e.event;
    const bool finishes = ev == "tell" || ev == "fail" || ev == "prune" || ev == "expire";
    // "create" and "enqueue" touch no trial.
    if (!finishes && ev != "import" && ev != "ask" && ev != "heartbeat" && ev != "report") {
      continue;
    }
    try {
      const json detail = json::parse(e.detail_json);
      // A new trial (an ask that resumes a running trial has no params).
      const bool creates = ev == "import" || (ev == "ask" && detail.contains("params"));
      if (creates) {
        if (replayed.count(e.trial_id) != 0) {
          return entry_problem(r, pos, e, "log",
                               "trial " + std::to_string(e.trial_id) + " is created twice");
        }
        Replayed t;
        t.params =
            storage_detail::params_to_json(decode_params(detail.at("params"), &*space), *space);
        if (ev == "import") {
          t.state = parse_trial_state(detail.at("state").get<std::string>());
          if (detail.contains("value")) t.value = detail.at("value").get<double>();
          if (detail.contains("values")) {
            t.values = storage_detail::metric_values_from_text(detail.at("values").dump());
          }
          if (detail.contains("intermediate")) {
            t.intermediate = intermediate_from_json(detail.at("intermediate"));
          }
        }
        replayed.emplace(e.trial_id, std::move(t));
        continue;
      }
      const auto it = replayed.find(e.trial_id);
      if (it == replayed.end()) {
        return entry_problem(r, pos, e, "log",
                             "trial " + std::to_string(e.trial_id) + " was never created");
      }
      Replayed& t = it->second;
      if (ev == "tell") {
        t.state = TrialState::kComplete;
        t.value = detail.contains("value") ? std::optional<double>(detail.at("value").get<double>())
                                           : std::nullopt;
        if (detail.contains("values")) {
          t.values = storage_detail::metric_values_from_text(detail.at("values").dump());
        }
      } else if (ev == "report") {
        t.intermediate.push_back(
            {detail.at("step").get<std::int64_t>(), detail.at("value").get<double>()});
      } else if (ev == "prune") {
        t.state = TrialState::kPruned;
        // Since schema 4 a pruned trial keeps its last intermediate value, logged here.
        if (detail.contains("value")) t.value = detail.at("value").get<double>();
      } else if (ev == "fail" || ev == "expire") {
        t.state = TrialState::kFailed;
      }
    } catch (const std::exception& ex) {
      return entry_problem(r, pos, e, "log", std::string("cannot replay: ") + ex.what());
    }
  }

  // The trials table against the replay.
  for (const Trial& t : trials) {
    const auto it = replayed.find(t.id);
    if (it == replayed.end()) {
      return trial_problem(r, t.id, "", "in the trials table but not in the log");
    }
    const Replayed& want = it->second;
    const std::string params = storage_detail::params_to_json(t.params, *space);
    if (params != want.params) {
      return trial_problem(
          r, t.id, "params",
          "params are " + params + " in the table, " + want.params + " in the log");
    }
    if (t.state != want.state) {
      return trial_problem(r, t.id, "state",
                           "state is " + to_string(t.state) + " in the table, " +
                               to_string(want.state) + " in the log");
    }
    if (t.value != want.value) {
      return trial_problem(
          r, t.id, "value",
          "value is " + text_of(t.value) + " in the table, " + text_of(want.value) + " in the log");
    }
    if (t.values != want.values) {
      return trial_problem(r, t.id, "values",
                           "values are " + storage_detail::metric_values_to_text(t.values) +
                               " in the table, " +
                               storage_detail::metric_values_to_text(want.values) + " in the log");
    }
    if (t.intermediate != want.intermediate) {
      return trial_problem(r, t.id, "intermediate",
                           "intermediate values are " +
                               intermediate_to_json(t.intermediate).dump() + " in the table, " +
                               intermediate_to_json(want.intermediate).dump() + " in the log");
    }
    replayed.erase(it);
  }
  if (!replayed.empty()) {
    return trial_problem(r, replayed.begin()->first, "", "in the log but not in the trials table");
  }
  return r;
}

}  // namespace gpbo
