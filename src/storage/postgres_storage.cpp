/// The PostgreSQL store: a libpq connection whose errors never show a password, the schema and
/// its upgrade path, and transactions retried as a whole on serialization failures, deadlocks,
/// lock timeouts and lost connections.
#include "storage/postgres_storage.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "gpbo/error.hpp"
#include "storage/storage_common.hpp"

namespace gpbo {
namespace postgres_detail {
namespace {

using storage_detail::check_json;
using storage_detail::check_log_entry;
using storage_detail::check_trial;

/// libpq's connect_timeout (seconds) unless the URL sets one: an unreachable host fails a
/// Storage::open after this long rather than after the OS's TCP timeout (minutes).
constexpr const char* kDefaultConnectTimeout = "10";

/// A serialization failure, deadlock or lock timeout: the whole transaction is retried.
class RetryableError : public StorageError {
 public:
  using StorageError::StorageError;
};

}  // namespace

/// The connection is gone (server restart, network, admin shutdown): reconnect, then retry.
class ConnectionLost : public StorageError {
 public:
  using StorageError::StorageError;
};

/// A statement parameter in text form; nullopt is SQL NULL.
using Value = std::optional<std::string>;

namespace {

Value num(std::int64_t v) { return std::to_string(v); }

Value num(double v) {
  // Shortest text that reads back as the same double (PostgreSQL parses it exactly).
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

Value num(const std::optional<double>& v) { return v ? num(*v) : std::nullopt; }

/// A text parameter. libpq passes text parameters NUL-terminated, so a NUL byte would silently
/// cut the value short: refuse it instead.
Value text(const std::string& s, const std::string& what) {
  if (s.find('\0') != std::string::npos) {
    throw InvalidArgument(what + " contains a NUL character, which PostgreSQL cannot store");
  }
  return s;
}

/// Replaces every occurrence of each secret in `text` with "***".
std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

/// One line: libpq's messages end in a newline and may carry DETAIL/HINT lines; every run of
/// whitespace becomes one space.
std::string one_line(const std::string& text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

/// Server notices (e.g. "drop cascades to ...") are not errors; libpq would print them on stderr.
void ignore_notice(void* /*arg*/, const char* /*message*/) {}

/// The raw (still percent-encoded) passwords written in a connection URI, where libpq looks for
/// them: between ':' and '@' in "scheme://user:password@host", and "password=" parameters.
/// Returns the [begin, end) ranges.
std::vector<std::pair<std::size_t, std::size_t>> password_ranges(const std::string& url) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  const std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) return out;
  const std::size_t start = scheme + 3;
  // libpq takes the user spec up to the first '@', unless a '/' comes first.
  const std::size_t at = url.find_first_of("@/", start);
  if (at != std::string::npos && url[at] == '@') {
    const std::size_t colon = url.find(':', start);
    if (colon < at) out.emplace_back(colon + 1, at);
  }
  const std::size_t query = url.find('?', start);
  if (query != std::string::npos) {
    for (std::size_t p = query + 1; p < url.size();) {
      std::size_t amp = url.find('&', p);
      if (amp == std::string::npos) amp = url.size();
      static const std::string kKey = "password=";
      if (url.compare(p, kKey.size(), kKey) == 0) out.emplace_back(p + kKey.size(), amp);
      p = amp + 1;
    }
  }
  return out;
}

}  // namespace

/// The rows (or the outcome) of one statement; owns the PGresult.
class Result {
 public:
  Result(PGresult* result, const std::string& where) : result_(result, &PQclear), where_(where) {}

  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(result_.get(), row, col),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row, col)));
  }
  std::int64_t integer(int row, int col) const { return parse<std::int64_t>(row, col); }
  double real(int row, int col) const { return parse<double>(row, col); }
  /// Rows changed by an INSERT, UPDATE or DELETE.
  std::int64_t changed() const {
    const char* n = PQcmdTuples(result_.get());
    return n != nullptr && *n != '\0' ? std::stoll(n) : 0;
  }
  std::string command_status() const { return PQcmdStatus(result_.get()); }

 private:
  template <typename T>
  T parse(int row, int col) const {
    const char* begin = PQgetvalue(result_.get(), row, col);
    const char* end = begin + PQgetlength(result_.get(), row, col);
    T value{};
    const auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr != end) {
      throw StorageError(where_ + ": unexpected value '" + std::string(begin, end) +
                         "' in column '" + PQfname(result_.get(), col) + "'");
    }
    return value;
  }

  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
  const std::string& where_;
};

/// One libpq connection. Every error names the URL with its password masked, and libpq's
/// message with any occurrence of the password scrubbed.
class Connection {
 public:
  explicit Connection(const std::string& url) {
    for (const auto& [begin, end] : password_ranges(url)) {
      secrets_.push_back(url.substr(begin, end - begin));
    }
    char* parse_error = nullptr;
    if (PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error)) {
      for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (std::string(o->keyword) == "password" && o->val != nullptr) secrets_.push_back(o->val);
      }
      PQconninfoFree(options);
    }
    PQfreemem(parse_error);  // the connect below reports the same error
    // Scrubbed too: the password may appear elsewhere in the URL as well.
    where_ = "PostgreSQL database '" + scrub(PostgresStorage::masked_url(url), secrets_) + "'";
    // Keywords are applied in order, so the URL (expanded from dbname) overrides the defaults
    // before it, and client_encoding after it is always UTF8 (what the JSON columns hold).
    const char* const keywords[] = {"connect_timeout", "fallback_application_name", "dbname",
                                    "client_encoding", nullptr};
    const char* const values[] = {kDefaultConnectTimeout, "gpbo", url.c_str(), "UTF8", nullptr};
    conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (conn_ == nullptr) throw StorageError(where_ + ": out of memory creating a connection");
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string message = masked(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw StorageError("cannot connect to " + where_ + ": " + message);
    }
    PQsetNoticeProcessor(conn_, &ignore_notice, nullptr);
    try {
      configure();
    } catch (...) {
      PQfinish(conn_);
      throw;
    }
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& where() const { return where_; }

  /// Runs one statement with parameters ($1, $2, ...). Throws ConnectionLost, RetryableError,
  /// Conflict (a unique key), InvalidArgument (a value PostgreSQL refuses) or StorageError.
  Result exec(const std::string& sql, const std::vector<Value>& params = {}) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Value& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, /*resultFormat=*/0);
    return check(r, sql);
  }

  /// Runs statements without parameters (one round trip); returns the last one's result.
  Result exec_script(const std::string& sql) { return check(PQexec(conn_, sql.c_str()), sql); }

  /// Drops and reopens the connection (same parameters). Throws ConnectionLost on failure.
  void reconnect() {
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      throw ConnectionLost("cannot reconnect to " + where_ + ": " + masked(PQerrorMessage(conn_)));
    }
    configure();
  }

  bool in_transaction() const {
    const PGTransactionStatusType s = PQtransactionStatus(conn_);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
  }

  /// Rolls back an open transaction; errors are ignored (a dead connection rolls back anyway).
  void rollback_quietly() {
    if (PQstatus(conn_) == CONNECTION_OK && in_transaction()) PQclear(PQexec(conn_, "ROLLBACK"));
  }

  std::string masked(const std::string& message) const {
    return one_line(scrub(message, secrets_));
  }

 private:
  /// Session settings, after every (re)connect. extra_float_digits = 3 makes servers older than
  /// PostgreSQL 12 print doubles with all their digits (newer ones print the shortest exact
  /// form for any positive value).
  void configure() { exec("SET extra_float_digits = 3"); }

  Result check(PGresult* r, const std::string& sql) {
    const ExecStatusType status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result(r, where_);
    const std::string sqlstate = [&] {
      const char* s = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
      return std::string(s != nullptr ? s : "");
    }();
    std::string error = r != nullptr ? PQresultErrorMessage(r) : "";
    if (error.empty()) error = PQerrorMessage(conn_);
    PQclear(r);
    const std::string message = where_ + ": running \"" + one_line(sql) + "\": " + masked(error);
    const bool lost = PQstatus(conn_) != CONNECTION_OK || sqlstate.compare(0, 2, "08") == 0 ||
                      sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
    if (lost) throw ConnectionLost(message);
    // serialization_failure, deadlock_detected, lock_not_available (lock_timeout)
    if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
      throw RetryableError(message);
    }
    if (sqlstate == "23505") throw Conflict(message);                       // unique_violation
    if (sqlstate.compare(0, 2, "22") == 0) throw InvalidArgument(message);  // data exception
    throw StorageError(message);
  }

  PGconn* conn_ = nullptr;
  std::string where_;
  std::vector<std::string> secrets_;
};

namespace {

// ---------------------------------------------------------------- schema

/// Version 1. Times are double precision seconds since the Unix epoch; JSON columns hold text
/// (byte for byte what was written; jsonb would reformat it).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE schema_version (
  version integer NOT NULL
);
CREATE TABLE studies (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  space_json text NOT NULL,
  direction text NOT NULL CHECK (direction IN ('minimize', 'maximize')),
  options_json text NOT NULL,
  state_json text NOT NULL,
  created_at double precision NOT NULL
);
CREATE TABLE trials (
  study_id bigint NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  number bigint NOT NULL,
  params_json text NOT NULL,
  state text NOT NULL,
  value double precision NULL,
  worker_id text NOT NULL,
  source text NOT NULL,
  created_at double precision NOT NULL,
  finished_at double precision NOT NULL,
  heartbeat_at double precision NOT NULL,
  lease_deadline double precision NOT NULL,
  PRIMARY KEY (study_id, number)
);
CREATE TABLE log (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  study_id bigint NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  time double precision NOT NULL,
  event text NOT NULL,
  trial_id bigint NOT NULL,
  worker_id text NOT NULL,
  detail_json text NOT NULL
);
CREATE INDEX log_by_study ON log (study_id, id);
)sql";

/// Upgrades the schema from version `from` to `from + 1`, inside the caller's transaction (which
/// holds the schema's advisory lock), so a failure leaves the old version intact. Version 0 is
/// a schema without gpbo's tables. To change the schema: bump PostgresStorage::kSchemaVersion
/// and add the step from the previous version here, never editing an existing step, which old
/// databases have already run.
void migrate_step(Connection& c, int from) {
  switch (from) {
    case 0:
      c.exec_script(kSchemaV1);
      return;
    default:
      break;
  }
  throw StorageError(c.where() + ": no upgrade from schema version " + std::to_string(from));
}

/// The schema version in the connection's current schema, 0 when gpbo's tables are not there.
int read_version(Connection& c) {
  const Result schema = c.exec("SELECT current_schema()");
  if (schema.is_null(0, 0)) {
    throw StorageError(c.where() +
                       ": no schema to keep studies in: no schema on the search_path exists");
  }
  const std::string name = schema.text(0, 0);
  const Result tables = c.exec(
      "SELECT c.relname FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = current_schema() "
      "AND c.relname IN ('schema_version', 'studies', 'trials', 'log') ORDER BY c.relname");
  std::string ours;
  bool has_version = false;
  for (int i = 0; i < tables.rows(); ++i) {
    const std::string table = tables.text(i, 0);
    if (table == "schema_version") {
      has_version = true;
    } else if (ours.empty()) {
      ours = table;
    }
  }
  if (!has_version) {
    // The schema is created in one transaction, so these tables without the version table are
    // not a half-created gpbo schema but someone else's: refuse to touch them.
    if (!ours.empty()) {
      throw StorageError(c.where() + ": schema '" + name +
                         "' is not a gpbo schema (it has a table '" + ours +
                         "' but no schema_version table); choose another schema with "
                         "?options=-csearch_path%3DNAME");
    }
    return 0;
  }
  const Result version = c.exec("SELECT MAX(version) FROM schema_version");
  if (version.is_null(0, 0)) {
    throw StorageError(c.where() + ": the schema_version table is empty");
  }
  return static_cast<int>(version.integer(0, 0));
}

[[noreturn]] void newer_version(const Connection& c, int version) {
  throw StorageError(c.where() + ": database schema version " + std::to_string(version) +
                     " is newer than this gpbo supports (" +
                     std::to_string(PostgresStorage::kSchemaVersion) + ")");
}

// ---------------------------------------------------------------- rows

constexpr const char* kStudyColumns =
    "id, name, space_json, direction, options_json, state_json, created_at";

std::pair<std::int64_t, StudyInfo> study_row(const Result& r, int row) {
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

/// The study's row id and info; NotFound if absent. `lock`: SELECT ... FOR UPDATE, which waits
/// for (and then holds until the end of the transaction) the study row's lock. Every write
/// takes it first, so the writes on one study run one after another.
std::pair<std::int64_t, StudyInfo> require_study(Connection& c, const std::string& name,
                                                 bool lock) {
  const Result r = c.exec(std::string("SELECT ") + kStudyColumns + " FROM studies WHERE name = $1" +
                              (lock ? " FOR UPDATE" : ""),
                          {text(name, "study name")});
  if (r.rows() == 0) throw NotFound("study '" + name + "' does not exist");
  return study_row(r, 0);
}

void insert_log(Connection& c, std::int64_t study_id, const LogEntry& entry) {
  c.exec(
      "INSERT INTO log (study_id, time, event, trial_id, worker_id, detail_json) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {num(study_id), num(entry.time), text(entry.event, "log event"), num(entry.trial_id),
       text(entry.worker_id, "worker id"), text(entry.detail_json, "log detail")});
}

/// A transaction on one study; the surrounding BEGIN/COMMIT belongs to PostgresStorage.
class PgTransaction final : public StudyTransaction {
 public:
  PgTransaction(Connection& c, std::int64_t study_id, StudyInfo info, bool writable)
      : c_(c), study_id_(study_id), info_(std::move(info)), writable_(writable) {}

  const StudyInfo& study() const override { return info_; }

  std::vector<StoredTrial> trials() override { return select_trials(-1); }

  StoredTrial trial(std::int64_t id) override {
    // A negative id would select every trial.
    return storage_detail::single_trial(id >= 0 ? select_trials(id) : std::vector<StoredTrial>{},
                                        info_.name, id);
  }

  std::int64_t trial_count() override {
    // Numbers are dense (0, 1, 2, ...): MAX + 1 is one index lookup.
    const Result r = c_.exec("SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = $1",
                             {num(study_id_)});
    return r.integer(0, 0);
  }

  void insert_trial(const StoredTrial& trial) override {
    require_writable("insert_trial");
    const std::vector<Value> values = trial_values(trial);
    const std::int64_t next = trial_count();
    if (trial.id != next) {
      throw Conflict("study '" + info_.name + "': cannot insert trial " + std::to_string(trial.id) +
                     ", the next free number is " + std::to_string(next));
    }
    c_.exec(
        "INSERT INTO trials (study_id, number, params_json, state, value, worker_id, source, "
        "created_at, finished_at, heartbeat_at, lease_deadline) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        values);
  }

  void update_trial(const StoredTrial& trial) override {
    require_writable("update_trial");
    const Result r = c_.exec(
        "UPDATE trials SET params_json = $3, state = $4, value = $5, worker_id = $6, "
        "source = $7, created_at = $8, finished_at = $9, heartbeat_at = $10, "
        "lease_deadline = $11 WHERE study_id = $1 AND number = $2",
        trial_values(trial));
    if (r.changed() == 0) throw NotFound(where(trial.id) + " does not exist");
  }

  void set_state_json(const std::string& state_json) override {
    require_writable("set_state_json");
    check_json(state_json, "study '" + info_.name + "': state_json");
    c_.exec("UPDATE studies SET state_json = $2 WHERE id = $1",
            {num(study_id_), text(state_json, "state_json")});
    info_.state_json = state_json;
  }

  void append_log(const LogEntry& entry) override {
    require_writable("append_log");
    check_log_entry(entry, info_.name);
    insert_log(c_, study_id_, entry);
  }

 private:
  /// Every trial (id < 0) or trial `id` alone, ordered by id.
  std::vector<StoredTrial> select_trials(std::int64_t id) {
    const char* columns =
        "SELECT number, params_json, state, value, worker_id, source, created_at, finished_at, "
        "heartbeat_at, lease_deadline FROM trials WHERE study_id = $1";
    const Result r =
        id < 0 ? c_.exec(std::string(columns) + " ORDER BY number", {num(study_id_)})
               : c_.exec(std::string(columns) + " AND number = $2", {num(study_id_), num(id)});
    std::vector<StoredTrial> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      StoredTrial t;
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

  /// $1..$11 of the INSERT and UPDATE statements; validates the trial first.
  std::vector<Value> trial_values(const StoredTrial& t) {
    const std::string params = check_trial(t, space(), info_.name);
    return {num(study_id_),
            num(t.id),
            params,
            std::string(to_string(t.state)),
            num(t.value),
            text(t.worker_id, where(t.id) + ": worker id"),
            text(t.source, where(t.id) + ": source"),
            num(t.created_at),
            num(t.finished_at),
            num(t.heartbeat_at),
            num(t.lease_deadline)};
  }

  Connection& c_;
  std::int64_t study_id_;
  StudyInfo info_;
  bool writable_;
  std::optional<Space> space_;
};

/// After the connection was lost while COMMIT of transaction `xid` was on its way: reconnects
/// and asks the server what became of it. True if it committed, false if it rolled back; waits
/// while it is still in progress (the old session may not have ended yet). Throws StorageError
/// when the budget runs out first, or the server no longer knows the transaction.
bool commit_landed(Connection& c, const std::string& xid, storage_detail::RetryClock& clock,
                   const std::string& what) {
  for (;;) {
    std::string status;
    try {
      c.reconnect();
      for (;;) {
        const Result r = c.exec("SELECT txid_status($1::bigint)", {xid});
        status = r.is_null(0, 0) ? "unknown" : r.text(0, 0);
        if (status != "in progress" || clock.expired()) break;
        clock.backoff();
      }
      if (status == "committed") return true;
      if (status == "aborted") return false;
    } catch (const ConnectionLost& e) {
      status = e.what();
    }
    if (status == "unknown" || clock.expired()) {
      throw StorageError(c.where() + ": the connection was lost while " + what +
                         " was committing, and whether it committed is unknown (" + status + ")");
    }
    clock.backoff();
  }
}

}  // namespace
}  // namespace postgres_detail

// ---------------------------------------------------------------- PostgresStorage

using postgres_detail::Connection;
using postgres_detail::ConnectionLost;
using postgres_detail::PgTransaction;
using postgres_detail::Result;
using Lock = storage_detail::ConnectionMutex::Lock;

std::string PostgresStorage::masked_url(const std::string& url) {
  std::string out = url;
  auto ranges = postgres_detail::password_ranges(url);
  // From the back, so that earlier ranges keep their offsets.
  std::sort(ranges.rbegin(), ranges.rend());
  for (const auto& [begin, end] : ranges) out.replace(begin, end - begin, "***");
  return out;
}

PostgresStorage::PostgresStorage(const std::string& url)
    : conn_(std::make_unique<Connection>(url)) {
  initialize();
}

PostgresStorage::~PostgresStorage() = default;

void PostgresStorage::initialize() {
  Connection& c = *conn_;
  // First read only: someone else's tables or a newer schema are reported with nothing written.
  int version = 0;
  transaction("reading the schema version", /*writable=*/false,
              [&] { version = postgres_detail::read_version(c); });
  if (version > kSchemaVersion) postgres_detail::newer_version(c, version);
  if (version == kSchemaVersion) return;
  // Create or upgrade in one transaction holding an advisory lock named after the schema: of
  // many processes racing on a new database one creates everything while the others wait,
  // then re-read the version and find nothing to do (concurrent CREATE TABLE would fail).
  transaction("creating the schema", /*writable=*/true, [&] {
    c.exec("SELECT pg_advisory_xact_lock(hashtext('gpbo schema ' || current_schema()))");
    int current = postgres_detail::read_version(c);
    if (current > kSchemaVersion) postgres_detail::newer_version(c, current);
    if (current == kSchemaVersion) return;
    for (; current < kSchemaVersion; ++current) postgres_detail::migrate_step(c, current);
    c.exec("DELETE FROM schema_version");
    c.exec("INSERT INTO schema_version (version) VALUES ($1)",
           {postgres_detail::num(std::int64_t{kSchemaVersion})});
  });
}

void PostgresStorage::transaction(const std::string& what, bool writable,
                                  const std::function<void()>& body) {
  Connection& c = *conn_;
  storage_detail::RetryClock clock(kRetrySeconds);
  bool reconnect = false;
  for (;;) {
    std::string xid;
    bool committing = false;
    try {
      if (reconnect) c.reconnect();
      reconnect = false;
      if (writable) {
        // READ COMMITTED: after the study row's lock is granted, each statement sees everything
        // committed before it, i.e. the previous writer's work. The lock wait is bounded by
        // what is left of the budget; the transaction id lets a lost COMMIT be looked up.
        const long long wait_ms = std::max<long long>(1, clock.left().count());
        const Result r =
            c.exec_script("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = " +
                          std::to_string(wait_ms) + "; SELECT txid_current()");
        xid = r.text(0, 0);
      } else {
        // One snapshot for every statement of the read.
        c.exec_script("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      }
      body();
      committing = true;
      const Result done = c.exec_script("COMMIT");
      // COMMIT of a transaction that an error aborted (one that `body` caught) rolls back.
      if (done.command_status() != "COMMIT") {
        throw StorageError(c.where() + ": " + what +
                           " was rolled back: a statement in it failed earlier");
      }
      return;
    } catch (const ConnectionLost& e) {
      if (committing && !xid.empty()) {
        if (postgres_detail::commit_landed(c, xid, clock, what)) return;
      } else {
        reconnect = true;
      }
      if (clock.expired()) {
        throw StorageError(std::string(e.what()) + " (gave up " + what + " after " +
                           std::to_string(static_cast<int>(kRetrySeconds)) + " s of retries)");
      }
      clock.backoff();
    } catch (const postgres_detail::RetryableError& e) {
      c.rollback_quietly();
      if (clock.expired()) {
        throw StorageError(std::string(e.what()) + " (gave up " + what + " after " +
                           std::to_string(static_cast<int>(kRetrySeconds)) + " s of retries)");
      }
      clock.backoff();
    } catch (...) {
      c.rollback_quietly();
      throw;
    }
  }
}

void PostgresStorage::write(const std::string& study,
                            const std::function<void(StudyTransaction&)>& fn) {
  Lock lock(mutex_, conn_->where());
  Connection& c = *conn_;
  transaction("writing study '" + study + "'", /*writable=*/true, [&] {
    auto [id, info] = postgres_detail::require_study(c, study, /*lock=*/true);
    PgTransaction tx(c, id, std::move(info), /*writable=*/true);
    fn(tx);
  });
}

void PostgresStorage::read(const std::string& study,
                           const std::function<void(StudyTransaction&)>& fn) {
  Lock lock(mutex_, conn_->where());
  Connection& c = *conn_;
  transaction("reading study '" + study + "'", /*writable=*/false, [&] {
    auto [id, info] = postgres_detail::require_study(c, study, /*lock=*/false);
    PgTransaction tx(c, id, std::move(info), /*writable=*/false);
    fn(tx);
  });
}

void PostgresStorage::create_study(const StudyInfo& info) {
  const StudyInfo stored = storage_detail::prepare_new_study(info);
  const LogEntry entry = storage_detail::create_log_entry(stored);
  using postgres_detail::num;
  using postgres_detail::text;
  Lock lock(mutex_, conn_->where());
  Connection& c = *conn_;
  transaction("creating study '" + info.name + "'", /*writable=*/true, [&] {
    // A concurrent create of the same name waits for the first to commit, then inserts nothing.
    const Result r = c.exec(
        "INSERT INTO studies (name, space_json, direction, options_json, state_json, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id",
        {text(stored.name, "study name"), text(stored.space_json, "space_json"),
         std::string(to_string(stored.direction)), text(stored.options_json, "options_json"),
         text(stored.state_json, "state_json"), num(stored.created_at)});
    if (r.rows() == 0) throw Conflict("study '" + stored.name + "' already exists");
    postgres_detail::insert_log(c, r.integer(0, 0), entry);
  });
}

std::vector<StudyInfo> PostgresStorage::list_studies() {
  Lock lock(mutex_, conn_->where());
  Connection& c = *conn_;
  std::vector<StudyInfo> out;
  transaction("listing studies", /*writable=*/false, [&] {
    out.clear();
    // COLLATE "C": byte order, as the other stores sort names.
    const Result r = c.exec(std::string("SELECT ") + postgres_detail::kStudyColumns +
                            " FROM studies ORDER BY name COLLATE \"C\"");
    for (int i = 0; i < r.rows(); ++i) out.push_back(postgres_detail::study_row(r, i).second);
  });
  return out;
}

void PostgresStorage::delete_study(const std::string& name) {
  Lock lock(mutex_, conn_->where());
  Connection& c = *conn_;
  transaction("deleting study '" + name + "'", /*writable=*/true, [&] {
    const std::int64_t id = postgres_detail::require_study(c, name, /*lock=*/true).first;
    const std::vector<postgres_detail::Value> params = {postgres_detail::num(id)};
    c.exec("DELETE FROM log WHERE study_id = $1", params);
    c.exec("DELETE FROM trials WHERE study_id = $1", params);
    c.exec("DELETE FROM studies WHERE id = $1", params);
  });
}

std::vector<LogEntry> PostgresStorage::log(const std::string& study) {
  Lock lock(mutex_, conn_->where());
  Connection& c = *conn_;
  std::vector<LogEntry> out;
  transaction("reading the log of study '" + study + "'", /*writable=*/false, [&] {
    out.clear();
    const std::int64_t id = postgres_detail::require_study(c, study, /*lock=*/false).first;
    // Appends to one study are serialized by its row lock, so id order is append order.
    const Result r = c.exec(
        "SELECT time, event, trial_id, worker_id, detail_json FROM log WHERE study_id = $1 "
        "ORDER BY id",
        {postgres_detail::num(id)});
    for (int i = 0; i < r.rows(); ++i) {
      LogEntry e;
      e.time = r.real(i, 0);
      e.event = r.text(i, 1);
      e.trial_id = r.integer(i, 2);
      e.worker_id = r.text(i, 3);
      e.detail_json = r.text(i, 4);
      out.push_back(std::move(e));
    }
  });
  return out;
}

}  // namespace gpbo
