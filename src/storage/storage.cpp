/// Storage::open's URL dispatch and the helpers the stores share: validation of what is
/// written, the JSON form of trial parameters, the connection lock and the retry clock.
#include "gpbo/storage.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <utility>

#include "codec/metrics_json.hpp"
#include "codec/trial_json.hpp"
#include "common/clock.hpp"
#include "common/json_text.hpp"
#include "gpbo/error.hpp"
#include "space/params_json.hpp"
#include "storage/memory_storage.hpp"
#include "storage/sql_connection.hpp"
#include "storage/sql_storage.hpp"
#include "storage/storage_common.hpp"

namespace gpbo {

namespace {
thread_local std::string t_writer;
}  // namespace

WriterScope::WriterScope(std::string name) : previous_(std::exchange(t_writer, std::move(name))) {}
WriterScope::~WriterScope() { t_writer = std::move(previous_); }
const std::string& current_writer() { return t_writer; }

namespace storage_detail {
namespace {

using Json = nlohmann::json;

void check_finite(double x, const std::string& where, const std::string& what) {
  if (!std::isfinite(x)) throw InvalidArgument(where + ": " + what + " is not finite");
}

}  // namespace

std::string params_to_json(const Params& params, const Space& space) {
  try {
    return gpbo::params_to_json(params, &space).dump();
  } catch (const Json::exception& e) {  // e.g. a string that is not UTF-8
    throw InvalidArgument(std::string("trial parameters cannot be stored as JSON: ") + e.what());
  }
}

Params params_from_json(const std::string& text, const Space& space) {
  try {
    return decode_params(Json::parse(text), &space);
  } catch (const Json::exception& e) {
    throw StorageError(std::string("stored trial parameters are not JSON: ") + e.what());
  } catch (const InvalidArgument& e) {
    throw StorageError(std::string("stored trial parameters: ") + e.what());
  }
}

std::string metric_values_to_text(const MetricValues& values) {
  return json_text(metric_values_to_json(values));
}

MetricValues metric_values_from_text(const std::string& text) {
  try {
    return metric_values_from_json(Json::parse(text));
  } catch (const Json::exception& e) {
    throw StorageError(std::string("stored metric values are not JSON: ") + e.what());
  } catch (const InvalidArgument& e) {
    throw StorageError(std::string("stored metric values: ") + e.what());
  }
}

std::string intermediate_to_text(const std::vector<IntermediateValue>& values) {
  return json_text(intermediate_to_json(values));
}

std::vector<IntermediateValue> intermediate_from_text(const std::string& text) {
  try {
    return intermediate_from_json(Json::parse(text));
  } catch (const Json::exception& e) {
    throw StorageError(std::string("stored intermediate values are not JSON: ") + e.what());
  } catch (const InvalidArgument& e) {
    throw StorageError(std::string("stored intermediate values: ") + e.what());
  }
}

Space stored_space(const StudyInfo& info) {
  try {
    return Space::from_json(info.space_json);
  } catch (const Error& e) {
    throw StorageError("study '" + info.name + "': stored search space is invalid: " + e.what());
  }
}

std::string check_trial(const Trial& trial, const Space& space, const std::string& study) {
  const std::string where = "study '" + study + "', trial " + std::to_string(trial.id);
  if (trial.id < 0) throw InvalidArgument(where + ": negative trial id");
  if (trial.value) check_finite(*trial.value, where, "value");
  for (const auto& [name, v] : trial.values) check_finite(v, where, "value of '" + name + "'");
  try {
    intermediate_from_json(intermediate_to_json(trial.intermediate));  // the checks of a read
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(where + ": " + e.what());
  }
  check_finite(trial.created_at, where, "created_at");
  check_finite(trial.finished_at, where, "finished_at");
  check_finite(trial.heartbeat_at, where, "heartbeat_at");
  check_finite(trial.lease_deadline, where, "lease_deadline");
  try {
    return params_to_json(trial.params, space);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(where + ": " + e.what());
  }
}

void check_json(const std::string& text, const std::string& what) {
  if (!Json::accept(text)) throw InvalidArgument(what + " is not valid JSON");
}

void check_log_entry(const LogEntry& entry, const std::string& study) {
  const std::string where = "study '" + study + "', log entry '" + entry.event + "'";
  check_finite(entry.time, where, "time");
  check_json(entry.detail_json, where + ": detail_json");
}

StudyInfo prepare_new_study(const StudyInfo& info) {
  if (info.name.empty()) throw InvalidArgument("a study needs a non-empty name");
  const std::string where = "study '" + info.name + "'";
  try {
    Space::from_json(info.space_json);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(where + ": space_json: " + e.what());
  }
  check_json(info.options_json, where + ": options_json");
  check_json(info.state_json, where + ": state_json");
  check_finite(info.created_at, where, "created_at");
  StudyInfo stored = info;
  if (stored.created_at == 0.0) stored.created_at = now_seconds();
  return stored;
}

LogEntry create_log_entry(const StudyInfo& info) {
  LogEntry entry;
  entry.time = info.created_at;
  entry.event = "create";
  entry.writer = current_writer();
  // The space and direction in the log make it self-describing provenance.
  entry.detail_json =
      Json{{"direction", to_string(info.direction)}, {"space", Json::parse(info.space_json)}}
          .dump();
  return entry;
}

ConnectionMutex::Lock::Lock(ConnectionMutex& mutex, const std::string& store) : mutex_(mutex) {
  if (mutex_.owner_.load() == std::this_thread::get_id()) {
    throw StorageError(store + ": called from inside its own write() or read()");
  }
  mutex_.mutex_.lock();
  mutex_.owner_.store(std::this_thread::get_id());
}

ConnectionMutex::Lock::~Lock() {
  mutex_.owner_.store(std::thread::id());
  mutex_.mutex_.unlock();
}

RetryClock::RetryClock(double budget_seconds, int max_backoff_ms)
    : start_(std::chrono::steady_clock::now()),
      budget_seconds_(budget_seconds),
      max_backoff_ms_(max_backoff_ms) {}

bool RetryClock::expired() const { return left().count() <= 0; }

std::chrono::milliseconds RetryClock::left() const {
  using namespace std::chrono;
  const auto budget = duration_cast<milliseconds>(duration<double>(budget_seconds_));
  const auto spent = duration_cast<milliseconds>(steady_clock::now() - start_);
  return std::max(milliseconds(0), budget - spent);
}

void RetryClock::backoff() {
  // Per-thread generator, seeded differently per thread and process.
  thread_local std::minstd_rand rng(std::random_device{}());
  const int cap = std::min(max_backoff_ms_, 1 << std::min(tries_, 20));
  ++tries_;
  const auto sleep =
      std::min(std::chrono::milliseconds(std::uniform_int_distribution<int>(1, cap)(rng)), left());
  std::this_thread::sleep_for(sleep);
}

}  // namespace storage_detail

std::unique_ptr<Storage> Storage::open(const std::string& url) {
  static const std::string kSqlite = "sqlite://";
  static const char* const kForms =
      "expected sqlite:///absolute/path.db, sqlite://relative/path.db, "
      "postgresql://[user[:password]@][host][:port][/dbname][?param=value&...] or memory://";
  const auto starts_with = [&](const char* prefix) { return url.rfind(prefix, 0) == 0; };
  if (url == "memory://") return std::make_unique<MemoryStorage>();
  if (starts_with("postgresql://") || starts_with("postgres://")) {
    // libpq's connection URI, passed on whole (libpq accepts both schemes).
    if (url.find('\0') != std::string::npos) {
      throw InvalidArgument("storage URL '" + masked_postgres_url(url) +
                            "' contains a NUL character");
    }
    return std::make_unique<SqlStorage>(connect_postgres(url));
  }
  if (url.compare(0, kSqlite.size(), kSqlite) == 0) {
    // "sqlite:///abs.db" leaves "/abs.db" (absolute); "sqlite://rel.db" leaves "rel.db".
    const std::string path = url.substr(kSqlite.size());
    if (path.empty()) throw InvalidArgument("storage URL '" + url + "' has no path; " + kForms);
    if (path.find('\0') != std::string::npos) {
      throw InvalidArgument("storage URL '" + url + "' contains a NUL character");
    }
    return std::make_unique<SqlStorage>(connect_sqlite(path));
  }
  throw InvalidArgument("unknown storage URL '" + url + "': " + kForms);
}

Trial StudyTransaction::trial(std::int64_t id) {
  std::vector<Trial> all = trials();
  if (id < 0 || id >= static_cast<std::int64_t>(all.size())) {
    throw NotFound("study '" + study().name + "' has no trial " + std::to_string(id));
  }
  return std::move(all[static_cast<std::size_t>(id)]);
}

std::int64_t StudyTransaction::trial_count() { return static_cast<std::int64_t>(trials().size()); }

}  // namespace gpbo
