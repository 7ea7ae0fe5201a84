#pragma once
/// Persistent studies: the Storage interface, its in-memory, SQLite and PostgreSQL
/// implementations (`Storage::open`), and the records they keep. Every write happens inside one
/// transaction on one study, so a crash leaves either all of an ask/tell or none of it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gpbo/options.hpp"
#include "gpbo/trial.hpp"

namespace gpbo {

/// A study's identity and configuration.
struct StudyInfo {
  std::string name;
  /// Space::to_json() of the search space.
  std::string space_json;
  Direction direction = Direction::kMinimize;
  /// The study's options as JSON (gpbo/options.hpp: study_options_to_json).
  std::string options_json = "{}";
  /// Engine state carried between asks (warm-start hyperparameters, queued points), as JSON.
  std::string state_json = "{}";
  double created_at = 0.0;
};

/// One line of a study's append-only provenance log.
struct LogEntry {
  double time = 0.0;
  /// "create", "ask", "tell", "fail", "prune", "heartbeat", "expire", "enqueue", "import",
  /// "report" (an intermediate value: {"step", "value", "prune"}), "shift" (drift: a
  /// re-evaluation off the model's prediction, {"z", "threshold"}; written by the ask whose fit
  /// found it).
  std::string event;
  std::int64_t trial_id = -1;
  std::string worker_id;
  /// Event details as a JSON object (params, value, ...).
  std::string detail_json = "{}";
  /// Who wrote the entry: the name of the request's token on `gpbo serve`, else "" (see
  /// WriterScope).
  std::string writer;
  // The hash chain (set by the store when it appends the entry; ignored in what is appended).
  /// The entry's place in its study's log: 0, 1, 2, ... in append order.
  std::int64_t seq = -1;
  /// The previous entry's hash; "" for the first entry of a study.
  std::string prev_hash;
  /// log_entry_hash(study, *this): 64 lowercase hex digits.
  std::string hash;
};

/// The hash of a log entry, which chains it to the one before: the hex SHA-256 of the entry's
/// canonical form, the text "gpbo-log-v1" followed by each of the study's name, `seq`, `time`
/// (17 significant digits, as printf's %.17g), `event`, `trial_id`, `worker_id`, `detail_json`,
/// `writer` and `prev_hash`, each written as its length in bytes, a colon and its bytes
/// ("5:alpha"), so no two different entries have the same form.
std::string log_entry_hash(const std::string& study, const LogEntry& entry);

/// Names the writer of the log entries that this thread appends while the scope lives (`gpbo
/// serve` opens one per request with the token's name). Scopes nest; the outer name comes back
/// when an inner scope ends.
class WriterScope {
 public:
  explicit WriterScope(std::string name);
  ~WriterScope();
  WriterScope(const WriterScope&) = delete;
  WriterScope& operator=(const WriterScope&) = delete;

 private:
  std::string previous_;
};

/// The writer named by this thread's innermost WriterScope; "" outside any.
const std::string& current_writer();

/// A study's data seen from inside one transaction. Reads see the transaction's own writes.
class StudyTransaction {
 public:
  virtual ~StudyTransaction() = default;
  virtual const StudyInfo& study() const = 0;
  /// Every trial, ordered by id.
  virtual std::vector<Trial> trials() = 0;
  /// Trial `id` (NotFound if there is none). The default reads trials(); a store may read the
  /// one row instead.
  virtual Trial trial(std::int64_t id);
  /// The number of trials; their ids are 0 .. count - 1. The default reads trials().
  virtual std::int64_t trial_count();
  /// Inserts a trial; its id must be the next free number (trials().size()), else Conflict.
  virtual void insert_trial(const Trial& trial) = 0;
  /// Replaces the stored fields of trial `trial.id` (NotFound if absent).
  virtual void update_trial(const Trial& trial) = 0;
  virtual void set_state_json(const std::string& state_json) = 0;
  /// Appends an entry to the study's log, chained to the last one: the store sets its `seq`,
  /// `prev_hash` and `hash` inside this transaction (the fields given are ignored).
  virtual void append_log(const LogEntry& entry) = 0;
  /// The study's log as this transaction sees it, oldest first (with its hash chain).
  virtual std::vector<LogEntry> log() = 0;
};

/// Where studies live. Implementations are safe to use from several threads and processes at
/// once (SQLite: WAL, one IMMEDIATE transaction per call, busy timeout plus retries; PostgreSQL:
/// a row lock on the study per write, snapshot reads, retries and reconnects).
class Storage {
 public:
  virtual ~Storage() = default;

  /// Opens a store by URL: "sqlite:///abs/path/study.db" or "sqlite://relative.db" (the file and
  /// schema are created on first use), "postgresql://user@host:port/dbname?..." or
  /// "postgres://..." (a libpq connection URI; the tables are created on first use in the
  /// connection's current schema), or "memory://" (this process only). Throws InvalidArgument
  /// for an unknown scheme, StorageError when the store cannot be opened (unreadable, corrupt,
  /// unreachable, login refused, or a newer schema version).
  static std::unique_ptr<Storage> open(const std::string& url);

  /// Creates a study; Conflict if the name exists. Logs a "create" entry.
  virtual void create_study(const StudyInfo& info) = 0;
  /// All studies, ordered by name.
  virtual std::vector<StudyInfo> list_studies() = 0;
  /// Deletes a study with its trials and log; NotFound if absent.
  virtual void delete_study(const std::string& name) = 0;
  /// Runs `fn` in one write transaction on the study (NotFound if absent). Commits when `fn`
  /// returns; rolls back and rethrows when it throws. On a busy database the whole transaction,
  /// `fn` included, is retried, so `fn` must have no effects outside the transaction.
  virtual void write(const std::string& study,
                     const std::function<void(StudyTransaction&)>& fn) = 0;
  /// Runs `fn` on a consistent read-only snapshot; writes through it throw StorageError.
  virtual void read(const std::string& study, const std::function<void(StudyTransaction&)>& fn) = 0;
  /// The study's log, oldest first.
  virtual std::vector<LogEntry> log(const std::string& study) = 0;
};

}  // namespace gpbo
