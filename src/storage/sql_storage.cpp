/// The SQL store, written once over SqlConnection: the schema and its upgrade path, the rows of
/// studies, trials and the log, and the StudyTransaction of a write or a read.
#include "storage/sql_storage.hpp"

#include <charconv>
#include <optional>
#include <utility>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

using storage_detail::check_json;
using storage_detail::check_log_entry;
using storage_detail::check_trial;
using Lock = storage_detail::ConnectionMutex::Lock;

// ---------------------------------------------------------------- schema

constexpr const char* kLogColumns =
    "time, event, trial_id, worker_id, detail_json, writer, seq, prev_hash, hash";

/// Row i of kLogColumns, which start at column `first`.
LogEntry log_row(const SqlRows& r, int i, int first = 0) {
  LogEntry e;
  e.time = r.real(i, first);
  e.event = r.text(i, first + 1);
  e.trial_id = r.integer(i, first + 2);
  e.worker_id = r.text(i, first + 3);
  e.detail_json = r.text(i, first + 4);
  e.writer = r.text(i, first + 5);
  // NULLs where the chain is not made yet (an upgrade), or where someone edited the table:
  // verify_study reports the entry.
  e.seq = r.is_null(i, first + 6) ? -1 : r.integer(i, first + 6);
  e.prev_hash = r.is_null(i, first + 7) ? "" : r.text(i, first + 7);
  e.hash = r.is_null(i, first + 8) ? "" : r.text(i, first + 8);
  return e;
}

/// Schema 3's upgrade: sets seq, prev_hash and hash of every entry already in the log, study by
/// study in id (append) order, as if each had been appended now. The chain vouches for these
/// entries only from the upgrade on.
void chain_existing_log(SqlConnection& c) {
  const SqlRows r = c.exec(
      "SELECT s.name, l.id, l.time, l.event, l.trial_id, l.worker_id, l.detail_json, l.writer, "
      "l.seq, l.prev_hash, l.hash FROM log l JOIN studies s ON s.id = l.study_id "
      "ORDER BY l.study_id, l.id");
  LogEntry previous;
  std::string previous_study;
  for (int i = 0; i < r.size(); ++i) {
    const std::string study = r.text(i, 0);
    const LogEntry e = log_row(r, i, 2);
    const bool first = i == 0 || study != previous_study;
    previous = storage_detail::chained_entry(study, e, first ? nullptr : &previous);
    previous_study = study;
    c.exec("UPDATE log SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1",
           {r.integer(i, 1), previous.seq, previous.prev_hash, previous.hash});
  }
}

/// Upgrades the schema from version `from` to `from + 1`, inside the caller's writable
/// transaction (so a crash or a failure leaves the old version intact). Version 0 is a schema
/// without gpbo's tables. To change the schema: bump SqlStorage::kSchemaVersion and add the step
/// from the previous version here, for both dialects (e.g. `case 1: c.exec("ALTER TABLE trials
/// ADD ..."); return;`), never editing an existing step, which old databases have already run.
void migrate_step(SqlConnection& c, int from) {
  switch (from) {
    case 0:
      c.exec_script(c.schema_v1());
      return;
    case 1:
      // Several metrics: a complete trial's value of each, as a JSON object (NULL: none).
      c.exec("ALTER TABLE trials ADD COLUMN values_json TEXT");
      return;
    case 2:
      // The log's writer and hash chain; the entries already there are chained now.
      c.exec("ALTER TABLE log ADD COLUMN writer TEXT NOT NULL DEFAULT ''");
      c.exec("ALTER TABLE log ADD COLUMN seq BIGINT");
      c.exec("ALTER TABLE log ADD COLUMN prev_hash TEXT");
      c.exec("ALTER TABLE log ADD COLUMN hash TEXT");
      chain_existing_log(c);
      c.exec("CREATE UNIQUE INDEX log_by_seq ON log (study_id, seq)");
      return;
    case 3:
      // Early stopping: a trial's intermediate values, [[step, value], ...] (NULL: none).
      c.exec("ALTER TABLE trials ADD COLUMN intermediate_json TEXT");
      return;
    default:
      break;
  }
  throw StorageError(c.where() + ": no upgrade from schema version " + std::to_string(from));
}

/// The schema version, 0 when gpbo's tables are not there.
int read_version(SqlConnection& c) {
  bool has_version = false;
  std::string other;
  for (const std::string& t : c.tables()) {
    if (t == "schema_version") {
      has_version = true;
    } else if (other.empty() && t.compare(0, 7, "sqlite_") != 0) {
      other = t;
    }
  }
  if (!has_version) {
    // The schema is created in one transaction, so tables without the version table are not a
    // half-created gpbo schema but someone else's: refuse to touch them.
    if (!other.empty()) throw StorageError(c.not_ours(other));
    return 0;
  }
  const SqlRows version = c.exec("SELECT MAX(version) FROM schema_version");
  if (version.size() == 0 || version.is_null(0, 0)) {
    throw StorageError(c.where() + ": the schema_version table is empty");
  }
  return static_cast<int>(version.integer(0, 0));
}

[[noreturn]] void newer_version(const SqlConnection& c, int version) {
  throw StorageError(c.where() + ": database schema version " + std::to_string(version) +
                     " is newer than this gpbo supports (" +
                     std::to_string(SqlStorage::kSchemaVersion) + ")");
}

// ---------------------------------------------------------------- rows

constexpr const char* kStudyColumns =
    "id, name, space_json, direction, options_json, state_json, created_at";
constexpr const char* kTrialColumns =
    "number, params_json, state, value, worker_id, source, created_at, finished_at, "
    "heartbeat_at, lease_deadline, values_json, intermediate_json";

std::pair<std::int64_t, StudyInfo> study_row(const SqlRows& r, int row) {
  StudyInfo info;
  info.name = r.text(row, 1);
  info.space_json = r.text(row, 2);
  try {
    info.direction = parse_direction(r.text(row, 3));
  } catch (const InvalidArgument& e) {
    throw StorageError("study '" + info.name + "': stored " + e.what());
  }
  info.options_json = r.text(row, 4);
  info.state_json = r.text(row, 5);
  info.created_at = r.real(row, 6);
  return {r.integer(row, 0), std::move(info)};
}

/// The study's row id and info; NotFound if absent. `lock`: the row stays locked until the
/// transaction ends (where the dialect locks rows), so the writes on one study run one after
/// another.
std::pair<std::int64_t, StudyInfo> require_study(SqlConnection& c, const std::string& name,
                                                 bool lock) {
  const SqlRows r = c.exec(std::string("SELECT ") + kStudyColumns +
                               " FROM studies WHERE name = $1" + (lock ? c.lock_row() : ""),
                           {name});
  if (r.size() == 0) throw NotFound("study '" + name + "' does not exist");
  return study_row(r, 0);
}

/// Appends `entry` to the study's log, chained to its last entry. The caller's write
/// transaction holds the study (SQLite: the database's write lock; PostgreSQL: the study's row
/// lock), so no other writer appends between this read of the last entry and the insert, and
/// concurrent writers still make one chain (the unique index on (study_id, seq) would refuse a
/// fork).
void insert_log(SqlConnection& c, std::int64_t study_id, const std::string& study,
                const LogEntry& entry) {
  const SqlRows last = c.exec(std::string("SELECT ") + kLogColumns +
                                  " FROM log WHERE study_id = $1 ORDER BY seq DESC LIMIT 1",
                              {study_id});
  std::optional<LogEntry> previous;
  if (last.size() > 0) previous = log_row(last, 0);
  const LogEntry e = storage_detail::chained_entry(study, entry, previous ? &*previous : nullptr);
  c.exec(
      "INSERT INTO log (study_id, time, event, trial_id, worker_id, detail_json, writer, seq, "
      "prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {study_id, e.time, e.event, e.trial_id, e.worker_id, e.detail_json, e.writer, e.seq,
       e.prev_hash, e.hash});
}

/// The study's log in id order, which is append order: appends to one study are serialized by
/// its lock.
std::vector<LogEntry> read_log(SqlConnection& c, std::int64_t study_id) {
  const SqlRows r =
      c.exec(std::string("SELECT ") + kLogColumns + " FROM log WHERE study_id = $1 ORDER BY id",
             {study_id});
  std::vector<LogEntry> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(log_row(r, i));
  return out;
}

SqlValue nullable(const std::optional<double>& v) {
  return v ? SqlValue(*v) : SqlValue(std::monostate{});
}

/// A transaction on one study; the surrounding BEGIN/COMMIT belongs to the connection.
class SqlTransaction final : public StudyTransaction {
 public:
  SqlTransaction(SqlConnection& c, std::int64_t study_id, StudyInfo info, bool writable)
      : c_(c), study_id_(study_id), info_(std::move(info)), writable_(writable) {}

  const StudyInfo& study() const override { return info_; }

  std::vector<Trial> trials() override {
    return rows_to_trials(c_.exec(
        std::string("SELECT ") + kTrialColumns + " FROM trials WHERE study_id = $1 ORDER BY number",
        {study_id_}));
  }

  Trial trial(std::int64_t id) override {
    std::vector<Trial> one = rows_to_trials(c_.exec(
        std::string("SELECT ") + kTrialColumns + " FROM trials WHERE study_id = $1 AND number = $2",
        {study_id_, id}));
    return storage_detail::single_trial(std::move(one), info_.name, id);
  }

  std::int64_t trial_count() override {
    // Numbers are dense (0, 1, 2, ...): MAX + 1 is one lookup in the primary key's index.
    return c_
        .exec("SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = $1", {study_id_})
        .integer(0, 0);
  }

  void insert_trial(const Trial& trial) override {
    require_writable("insert_trial");
    std::vector<SqlValue> values = trial_values(trial);
    const std::int64_t next = trial_count();
    if (trial.id != next) {
      throw Conflict("study '" + info_.name + "': cannot insert trial " + std::to_string(trial.id) +
                     ", the next free number is " + std::to_string(next));
    }
    c_.exec(
        "INSERT INTO trials (study_id, number, params_json, state, value, worker_id, source, "
        "created_at, finished_at, heartbeat_at, lease_deadline, values_json, intermediate_json) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        values);
  }

  void update_trial(const Trial& trial) override {
    require_writable("update_trial");
    const SqlRows r = c_.exec(
        "UPDATE trials SET params_json = $3, state = $4, value = $5, worker_id = $6, "
        "source = $7, created_at = $8, finished_at = $9, heartbeat_at = $10, "
        "lease_deadline = $11, values_json = $12, intermediate_json = $13 "
        "WHERE study_id = $1 AND number = $2",
        trial_values(trial));
    if (r.changed == 0) throw NotFound(where(trial.id) + " does not exist");
  }

  void set_state_json(const std::string& state_json) override {
    require_writable("set_state_json");
    check_json(state_json, "study '" + info_.name + "': state_json");
    c_.exec("UPDATE studies SET state_json = $2 WHERE id = $1", {study_id_, state_json});
    info_.state_json = state_json;
  }

  void append_log(const LogEntry& entry) override {
    require_writable("append_log");
    check_log_entry(entry, info_.name);
    insert_log(c_, study_id_, info_.name, entry);
  }

  std::vector<LogEntry> log() override { return read_log(c_, study_id_); }

 private:
  std::vector<Trial> rows_to_trials(const SqlRows& r) {
    std::vector<Trial> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      Trial t;
      t.id = r.integer(i, 0);
      try {
        t.params = storage_detail::params_from_json(r.text(i, 1), space());
        t.state = parse_trial_state(r.text(i, 2));
      } catch (const Error& e) {
        throw StorageError(where(t.id) + ": " + e.what());
      }
      if (!r.is_null(i, 3)) t.value = r.real(i, 3);
      t.worker_id = r.text(i, 4);
      t.source = r.text(i, 5);
      t.created_at = r.real(i, 6);
      t.finished_at = r.real(i, 7);
      t.heartbeat_at = r.real(i, 8);
      t.lease_deadline = r.real(i, 9);
      if (!r.is_null(i, 10)) {
        try {
          t.values = storage_detail::metric_values_from_text(r.text(i, 10));
        } catch (const Error& e) {
          throw StorageError(where(t.id) + ": " + e.what());
        }
      }
      if (!r.is_null(i, 11)) {
        try {
          t.intermediate = storage_detail::intermediate_from_text(r.text(i, 11));
        } catch (const Error& e) {
          throw StorageError(where(t.id) + ": " + e.what());
        }
      }
      out.push_back(std::move(t));
    }
    return out;
  }

  std::string where(std::int64_t id) const {
    return "study '" + info_.name + "', trial " + std::to_string(id);
  }

  void require_writable(const char* op) const {
    if (!writable_) {
      throw StorageError("study '" + info_.name + "': " + op + " in a read-only transaction");
    }
  }

  // Parsed on first use: a transaction that only logs or sets state never needs it.
  const Space& space() {
    if (!space_) space_ = storage_detail::stored_space(info_);
    return *space_;
  }

  /// $1..$13 of the INSERT and UPDATE statements; validates the trial first.
  std::vector<SqlValue> trial_values(const Trial& t) {
    const std::string params = check_trial(t, space(), info_.name);
    const SqlValue values = t.values.empty()
                                ? SqlValue(std::monostate{})
                                : SqlValue(storage_detail::metric_values_to_text(t.values));
    return {study_id_,
            t.id,
            params,
            to_string(t.state),
            nullable(t.value),
            t.worker_id,
            t.source,
            t.created_at,
            t.finished_at,
            t.heartbeat_at,
            t.lease_deadline,
            values,
            t.intermediate.empty()
                ? SqlValue(std::monostate{})
                : SqlValue(storage_detail::intermediate_to_text(t.intermediate))};
  }

  SqlConnection& c_;
  std::int64_t study_id_;
  StudyInfo info_;
  bool writable_;
  std::optional<Space> space_;
};

}  // namespace

// ---------------------------------------------------------------- SqlRows

bool SqlRows::is_null(int row, int col) const {
  return std::holds_alternative<std::monostate>(rows.at(row).at(col));
}

void SqlRows::bad(int row, int col, const char* what) const {
  const std::string name = col < static_cast<int>(columns.size()) ? columns[col] : "?";
  throw StorageError(where_ + ": unexpected value in column '" + name + "' of row " +
                     std::to_string(row) + " (expected " + what + ")");
}

std::int64_t SqlRows::integer(int row, int col) const {
  const SqlValue& v = rows.at(row).at(col);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* s = std::get_if<std::string>(&v)) {
    std::int64_t out = 0;
    const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
    if (ec == std::errc() && end == s->data() + s->size()) return out;
  }
  bad(row, col, "an integer");
}

double SqlRows::real(int row, int col) const {
  const SqlValue& v = rows.at(row).at(col);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* s = std::get_if<std::string>(&v)) {
    double out = 0.0;
    const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
    if (ec == std::errc() && end == s->data() + s->size()) return out;
  }
  bad(row, col, "a number");
}

std::string SqlRows::text(int row, int col) const {
  const SqlValue& v = rows.at(row).at(col);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  bad(row, col, "text");
}

// ---------------------------------------------------------------- SqlStorage

SqlStorage::SqlStorage(std::unique_ptr<SqlConnection> connection) : conn_(std::move(connection)) {
  initialize();
}

SqlStorage::~SqlStorage() = default;

void SqlStorage::initialize() {
  SqlConnection& c = *conn_;
  // First read only: a corrupt file, someone else's tables or a newer schema are reported with
  // nothing written.
  int version = 0;
  c.transaction("reading the schema version", /*writable=*/false,
                [&] { version = read_version(c); });
  if (version > kSchemaVersion) newer_version(c, version);
  c.on_schema_checked();
  if (version == kSchemaVersion) return;
  // Create or upgrade in one writable transaction that holds the schema: of many processes
  // racing on a new database one creates everything while the others wait, then re-read the
  // version and find nothing to do.
  c.transaction("creating the schema", /*writable=*/true, [&] {
    c.lock_schema();
    int current = read_version(c);
    if (current > kSchemaVersion) newer_version(c, current);
    if (current == kSchemaVersion) return;
    for (; current < kSchemaVersion; ++current) migrate_step(c, current);
    c.exec("DELETE FROM schema_version");
    c.exec("INSERT INTO schema_version (version) VALUES ($1)", {std::int64_t{kSchemaVersion}});
  });
}

void SqlStorage::write(const std::string& study, const std::function<void(StudyTransaction&)>& fn) {
  Lock lock(mutex_, conn_->where());
  SqlConnection& c = *conn_;
  c.transaction("writing study '" + study + "'", /*writable=*/true, [&] {
    auto [id, info] = require_study(c, study, /*lock=*/true);
    SqlTransaction tx(c, id, std::move(info), /*writable=*/true);
    fn(tx);
  });
}

void SqlStorage::read(const std::string& study, const std::function<void(StudyTransaction&)>& fn) {
  Lock lock(mutex_, conn_->where());
  SqlConnection& c = *conn_;
  c.transaction("reading study '" + study + "'", /*writable=*/false, [&] {
    auto [id, info] = require_study(c, study, /*lock=*/false);
    SqlTransaction tx(c, id, std::move(info), /*writable=*/false);
    fn(tx);
  });
}

void SqlStorage::create_study(const StudyInfo& info) {
  const StudyInfo stored = storage_detail::prepare_new_study(info);
  const LogEntry entry = storage_detail::create_log_entry(stored);
  Lock lock(mutex_, conn_->where());
  SqlConnection& c = *conn_;
  c.transaction("creating study '" + info.name + "'", /*writable=*/true, [&] {
    // A concurrent create of the same name waits for the first to commit, then inserts nothing.
    const SqlRows r = c.exec(
        "INSERT INTO studies (name, space_json, direction, options_json, state_json, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id",
        {stored.name, stored.space_json, to_string(stored.direction), stored.options_json,
         stored.state_json, stored.created_at});
    if (r.size() == 0) throw Conflict("study '" + stored.name + "' already exists");
    insert_log(c, r.integer(0, 0), stored.name, entry);
  });
}

std::vector<StudyInfo> SqlStorage::list_studies() {
  Lock lock(mutex_, conn_->where());
  SqlConnection& c = *conn_;
  std::vector<StudyInfo> out;
  c.transaction("listing studies", /*writable=*/false, [&] {
    out.clear();
    const SqlRows r =
        c.exec(std::string("SELECT ") + kStudyColumns + " FROM studies ORDER BY " + c.name_order());
    for (int i = 0; i < r.size(); ++i) out.push_back(study_row(r, i).second);
  });
  return out;
}

void SqlStorage::delete_study(const std::string& name) {
  Lock lock(mutex_, conn_->where());
  SqlConnection& c = *conn_;
  c.transaction("deleting study '" + name + "'", /*writable=*/true, [&] {
    const std::int64_t id = require_study(c, name, /*lock=*/true).first;
    // Explicit deletes rather than relying on ON DELETE CASCADE alone: a SQLite connection
    // opened by another tool may have foreign_keys off.
    for (const char* sql :
         {"DELETE FROM log WHERE study_id = $1", "DELETE FROM trials WHERE study_id = $1",
          "DELETE FROM studies WHERE id = $1"}) {
      c.exec(sql, {id});
    }
  });
}

std::vector<LogEntry> SqlStorage::log(const std::string& study) {
  Lock lock(mutex_, conn_->where());
  SqlConnection& c = *conn_;
  std::vector<LogEntry> out;
  c.transaction("reading the log of study '" + study + "'", /*writable=*/false, [&] {
    out.clear();
    out = read_log(c, require_study(c, study, /*lock=*/false).first);
  });
  return out;
}

}  // namespace gpbo
