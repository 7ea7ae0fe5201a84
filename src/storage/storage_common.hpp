#pragma once
// Helpers shared by the stores (defined in storage.cpp): validation of what is written, the
// JSON form of trial parameters, and the connection lock and retry clock of the database
// stores. Every store runs every write through the same checks, so a write that one store
// accepts the others accept too, and reads give back identical values.

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/space.hpp"
#include "gpbo/storage.hpp"

namespace gpbo::storage_detail {

/// The one row a store selected for trial `id` (NotFound when `rows` is empty).
inline Trial single_trial(std::vector<Trial> rows, const std::string& study, std::int64_t id) {
  if (rows.empty()) throw NotFound("study '" + study + "' has no trial " + std::to_string(id));
  return std::move(rows.front());
}

/// The params column: the text of gpbo::params_to_json typed by `space` (space/params_json.hpp).
/// Throws InvalidArgument for a value that cannot be stored.
std::string params_to_json(const Params& params, const Space& space);

/// Reads the params column back, typing each value by `space`. Throws StorageError when the
/// text is not such an object (a damaged store).
Params params_from_json(const std::string& text, const Space& space);

/// The values_json column: a trial's metric values as a JSON object.
std::string metric_values_to_text(const MetricValues& values);
/// Reads it back; StorageError when it is not such an object of finite numbers.
MetricValues metric_values_from_text(const std::string& text);

/// The intermediate_json column: [[step, value], ...] (doubles in their shortest exact form).
std::string intermediate_to_text(const std::vector<IntermediateValue>& values);
/// Reads it back; StorageError unless it is such an array, steps strictly increasing and
/// values finite.
std::vector<IntermediateValue> intermediate_from_text(const std::string& text);

/// Parses a study's stored space; StorageError when it does not parse (a damaged store).
Space stored_space(const StudyInfo& info);

/// Validates a trial before it is written (id >= 0; finite value and times) and returns its
/// params in JSON form. Throws InvalidArgument naming the study and trial.
std::string check_trial(const Trial& trial, const Space& space, const std::string& study);

/// Throws InvalidArgument unless `text` is valid JSON; `what` names it in the message.
void check_json(const std::string& text, const std::string& what);

/// Validates a log entry (finite time, JSON detail) before it is written.
void check_log_entry(const LogEntry& entry, const std::string& study);

/// Validates a new study and returns it as stored: the space must parse, the JSON fields must be
/// JSON, and a created_at of 0 becomes the current time. Throws InvalidArgument.
StudyInfo prepare_new_study(const StudyInfo& info);

/// The "create" log entry of a new study (as returned by prepare_new_study), by the current
/// writer.
LogEntry create_log_entry(const StudyInfo& info);

/// `entry` as appended after `previous` (nullptr: the study's first entry): its seq, prev_hash
/// and hash set (log_chain.cpp).
LogEntry chained_entry(const std::string& study, const LogEntry& entry, const LogEntry* previous);

/// The mutex of a store whose one connection serves one call at a time. A thread that locks it
/// again (a call to the store from inside its own write() or read(), which would nest
/// transactions on the connection or deadlock) gets a StorageError instead.
class ConnectionMutex {
 public:
  /// Holds the mutex for the lifetime of one call; `store` names the store in the error.
  class Lock {
   public:
    Lock(ConnectionMutex& mutex, const std::string& store);
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    ConnectionMutex& mutex_;
  };

 private:
  std::mutex mutex_;
  std::atomic<std::thread::id> owner_{};
};

/// The clock of a transaction retried as a whole: a total budget, and a randomized exponential
/// backoff between tries (1 ms, doubling per try up to max_backoff_ms), drawn per thread so
/// that colliding writers in threads or processes draw different sleeps.
class RetryClock {
 public:
  explicit RetryClock(double budget_seconds, int max_backoff_ms = 100);
  /// True once the budget is spent.
  bool expired() const;
  /// What is left of the budget (zero once spent).
  std::chrono::milliseconds left() const;
  /// Sleeps the next backoff (never past the end of the budget).
  void backoff();
  double budget_seconds() const { return budget_seconds_; }

 private:
  std::chrono::steady_clock::time_point start_;
  double budget_seconds_;
  int max_backoff_ms_;
  int tries_ = 0;
};

}  // namespace gpbo::storage_detail
