/// Tests for the SQLite connection's statement cache: on a raw SQLite handle (what it prepares,
/// evicts and finalizes, and that a lease always resets its statement), then through the
/// connection and the store (the store's statements are prepared once, a failed statement
/// leaves nothing mid-way, a cached statement follows another connection's schema change).
#include "storage/sqlite_connection.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/persistent_study.hpp"
#include "storage/raw_sqlite.hpp"
#include "storage/sql_storage.hpp"
#include "storage/temp_dir.hpp"

namespace gpbo {
namespace {

namespace fs = std::filesystem;

/// A raw connection to a file of the test's directory, closed with sqlite3_close (not _v2): the
/// test fails if a statement is left unfinalized.
class RawDb {
 public:
  explicit RawDb(const fs::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      throw std::runtime_error("cannot open " + file.string());
    }
  }
  ~RawDb() { EXPECT_EQ(sqlite3_close(db_), SQLITE_OK) << "a statement was left unfinalized"; }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  sqlite3* get() const { return db_; }
  void exec(const std::string& sql) const {
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
  }
  /// The statements prepared on the connection and not finalized.
  int live_statements() const {
    int n = 0;
    for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s != nullptr;
         s = sqlite3_next_stmt(db_, s)) {
      ++n;
    }
    return n;
  }

 private:
  sqlite3* db_ = nullptr;
};

/// Steps `sql`'s lease to the end; SQLITE_DONE, or the failing result code.
int run(SqliteStatementCache& cache, const std::string& sql) {
  const SqliteStatementCache::Lease lease = cache.acquire(sql);
  if (lease.status() != SQLITE_OK) return lease.status();
  int rc = SQLITE_ROW;
  while (rc == SQLITE_ROW) rc = sqlite3_step(lease.get());
  return rc;
}

class StatementCache : public ::testing::Test {
 protected:
  fs::path file() const { return dir_.path() / "cache.db"; }

  TempDir dir_{"gpbo-stmtcache"};
};

TEST_F(StatementCache, OneTextIsPreparedOnce) {
  RawDb db(file());
  db.exec("CREATE TABLE t (x INTEGER)");
  SqliteStatementCache cache(db.get());
  for (int i = 0; i < 100; ++i) ASSERT_EQ(run(cache, "INSERT INTO t VALUES (1)"), SQLITE_DONE);
  EXPECT_EQ(cache.prepared(), 1);
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_EQ(run(cache, "SELECT COUNT(*) FROM t"), SQLITE_DONE);
  EXPECT_EQ(cache.prepared(), 2);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(raw_sql(file(), "SELECT COUNT(*) FROM t"), "100");  // each run ran
  EXPECT_EQ(db.live_statements(), 2);
}

TEST_F(StatementCache, PastItsBoundTheLeastRecentlyUsedIsFinalized) {
  RawDb db(file());
  SqliteStatementCache cache(db.get());
  const std::size_t bound = SqliteStatementCache::kDefaultCapacity;
  ASSERT_EQ(cache.capacity(), bound);
  const auto text = [](std::size_t i) { return "SELECT " + std::to_string(i); };
  for (std::size_t i = 0; i < bound; ++i) ASSERT_EQ(run(cache, text(i)), SQLITE_DONE);
  EXPECT_EQ(cache.size(), bound);
  EXPECT_EQ(db.live_statements(), static_cast<int>(bound));
  ASSERT_EQ(run(cache, text(0)), SQLITE_DONE);  // 0 is the most recent now; 1 the least
  EXPECT_EQ(cache.prepared(), static_cast<std::int64_t>(bound));

  ASSERT_EQ(run(cache, text(bound)), SQLITE_DONE);  // one more: 1 goes
  EXPECT_EQ(cache.size(), bound);
  EXPECT_EQ(db.live_statements(), static_cast<int>(bound));  // finalized, not just forgotten
  ASSERT_EQ(run(cache, text(0)), SQLITE_DONE);
  EXPECT_EQ(cache.prepared(), static_cast<std::int64_t>(bound) + 1);  // 0 stayed
  ASSERT_EQ(run(cache, text(1)), SQLITE_DONE);
  EXPECT_EQ(cache.prepared(), static_cast<std::int64_t>(bound) + 2);  // 1 was prepared again
  EXPECT_EQ(db.live_statements(), static_cast<int>(bound));
}

TEST_F(StatementCache, ALeaseThatEndsMidWayResetsItsStatementAndClearsItsValues) {
  RawDb db(file());  // a rollback journal (no WAL): a reader mid-way holds a lock writers need
  db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)");
  SqliteStatementCache cache(db.get());
  const std::string sql = "SELECT x FROM t WHERE x > $1 OR $2 = 'a bound secret'";
  try {
    const SqliteStatementCache::Lease lease = cache.acquire(sql);
    ASSERT_EQ(sqlite3_bind_int64(lease.get(), 1, 0), SQLITE_OK);
    ASSERT_EQ(sqlite3_bind_text(lease.get(), 2, "a bound secret", -1, SQLITE_TRANSIENT), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(lease.get()), SQLITE_ROW);  // one row read of three
    ASSERT_TRUE(cache.any_busy());
    throw std::runtime_error("thrown between two rows");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(cache.any_busy());
  ASSERT_EQ(cache.expanded_sql().size(), 1u);
  EXPECT_EQ(cache.expanded_sql()[0], "SELECT x FROM t WHERE x > NULL OR NULL = 'a bound secret'");
  // Another connection writes at once (no busy wait): no read lock was left behind.
  RawDb other(file());
  other.exec("INSERT INTO t VALUES (4)");
  EXPECT_EQ(raw_sql(file(), "SELECT COUNT(*) FROM t"), "4");
}

TEST_F(StatementCache, AStatementThatFailsToPrepareIsNotCached) {
  RawDb db(file());
  SqliteStatementCache cache(db.get());
  {
    const SqliteStatementCache::Lease lease = cache.acquire("SELECT x FROM later");
    EXPECT_EQ(lease.status(), SQLITE_ERROR);
    EXPECT_EQ(lease.get(), nullptr);
    EXPECT_NE(std::string(sqlite3_errmsg(db.get())).find("no such table: later"),
              std::string::npos);
  }
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.prepared(), 0);
  // Once the table exists the same text prepares: no failure was remembered.
  db.exec("CREATE TABLE later (x INTEGER)");
  EXPECT_EQ(run(cache, "SELECT x FROM later"), SQLITE_DONE);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(StatementCache, AnEmptyTextIsLentButNotCached) {
  RawDb db(file());
  SqliteStatementCache cache(db.get());
  {
    const SqliteStatementCache::Lease lease = cache.acquire("  -- nothing\n");
    EXPECT_EQ(lease.status(), SQLITE_OK);
    EXPECT_EQ(lease.get(), nullptr);
  }
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(StatementCache, ANestedLeaseOfOneTextGetsAStatementOfItsOwn) {
  RawDb db(file());
  SqliteStatementCache cache(db.get());
  {
    const SqliteStatementCache::Lease outer = cache.acquire("SELECT 1");
    ASSERT_EQ(sqlite3_step(outer.get()), SQLITE_ROW);
    {
      const SqliteStatementCache::Lease inner = cache.acquire("SELECT 1");
      EXPECT_NE(inner.get(), outer.get());
      EXPECT_EQ(sqlite3_step(inner.get()), SQLITE_ROW);
      EXPECT_EQ(db.live_statements(), 2);
    }
    EXPECT_EQ(db.live_statements(), 1);                // the inner one was finalized
    EXPECT_EQ(sqlite3_column_int(outer.get(), 0), 1);  // the outer one is still mid-way
  }
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_FALSE(cache.any_busy());
}

TEST_F(StatementCache, AFullCacheOfLentStatementsLendsOneOfItsOwn) {
  RawDb db(file());
  SqliteStatementCache cache(db.get(), 1);
  {
    const SqliteStatementCache::Lease first = cache.acquire("SELECT 1");
    const SqliteStatementCache::Lease second = cache.acquire("SELECT 2");  // 1 is lent
    EXPECT_NE(second.get(), nullptr);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(sqlite3_sql(first.get()), std::string("SELECT 1"));
  }
  EXPECT_EQ(db.live_statements(), 1);
  EXPECT_EQ(cache.expanded_sql(), std::vector<std::string>{"SELECT 1"});
}

TEST_F(StatementCache, ClearFinalizesEveryStatement) {
  RawDb db(file());  // its destructor checks that sqlite3_close finds nothing unfinalized
  SqliteStatementCache cache(db.get());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(run(cache, "SELECT " + std::to_string(i)), SQLITE_DONE);
  EXPECT_EQ(db.live_statements(), 5);
  cache.clear();
  EXPECT_EQ(db.live_statements(), 0);
  EXPECT_EQ(cache.size(), 0u);
  ASSERT_EQ(run(cache, "SELECT 1"), SQLITE_DONE);  // still usable; the destructor finalizes it
}

// ---------------------------------------------------------------- through the connection

class SqliteStatements : public ::testing::Test {
 protected:
  fs::path file() const { return dir_.path() / "study.db"; }
  /// A new connection to file(), as the store's SqliteConnection.
  std::unique_ptr<SqliteConnection> connect() const {
    std::unique_ptr<SqlConnection> c = connect_sqlite(file().string());
    auto* sqlite = dynamic_cast<SqliteConnection*>(c.get());
    if (sqlite == nullptr) throw std::runtime_error("connect_sqlite gave no SqliteConnection");
    c.release();
    return std::unique_ptr<SqliteConnection>(sqlite);
  }
  std::set<std::string> files() const {
    std::set<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
      out.insert(entry.path().filename().string());
    }
    return out;
  }

  TempDir dir_{"gpbo-stmtcache"};
};

Space test_space() {
  Space s;
  s.add_float("x", 0.0, 1.0).add_int("n", 0, 10);
  return s;
}

TEST_F(SqliteStatements, TheStoreRunsEachOfItsStatementsFromOnePreparation) {
  std::unique_ptr<SqliteConnection> owned = connect();
  const SqliteConnection& c = *owned;
  auto storage = std::make_shared<SqlStorage>(std::move(owned));
  StudyOptions options;
  options.n_initial = 2;
  PersistentStudy study = PersistentStudy::create(storage, "s", test_space(), options);
  const auto ask_and_tell = [&] {
    const Trial t = study.ask(1, "w").at(0);
    study.tell(t.id, 0.5 - std::get<double>(t.params.at("x")));
  };
  // Two rounds make every statement of an ask, a model-based ask and a tell run once.
  for (int i = 0; i < 3; ++i) ask_and_tell();
  study.trials();
  study.log();
  const std::int64_t prepared = c.statements().prepared();
  const std::size_t cached = c.statements().size();
  EXPECT_GT(prepared, 0);
  EXPECT_EQ(static_cast<std::int64_t>(cached), prepared);  // nothing evicted, nothing twice
  // Every statement of the store fits with room to spare (the bound's reason).
  EXPECT_LT(cached, SqliteStatementCache::kDefaultCapacity / 2);

  for (int i = 0; i < 5; ++i) ask_and_tell();
  std::vector<Trial> imported;
  for (int i = 0; i < 200; ++i) {
    Trial t;
    t.params = {{"x", i / 200.0}, {"n", std::int64_t{i % 10}}};
    t.state = TrialState::kComplete;
    t.value = i / 100.0;
    imported.push_back(t);
  }
  ASSERT_EQ(study.add_trials(imported).size(), 200u);
  EXPECT_EQ(study.trials().size(), 208u);
  EXPECT_EQ(c.statements().prepared(), prepared);  // 5 rounds and 200 trials: none more
  EXPECT_EQ(c.statements().size(), cached);
  EXPECT_FALSE(c.statements().any_busy());
}

TEST_F(SqliteStatements, AConflictLeavesNoStatementMidWayNorItsValues) {
  const std::unique_ptr<SqliteConnection> c = connect();
  c->exec_script("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL)");
  const std::string insert = "INSERT INTO t (id, note) VALUES ($1, $2)";
  c->exec(insert, {std::int64_t{1}, std::string("first")});
  EXPECT_THROW(c->exec(insert, {std::int64_t{1}, std::string("the second, refused")}), Conflict);
  EXPECT_FALSE(c->statements().any_busy());
  for (const std::string& sql : c->statements().expanded_sql()) {
    EXPECT_EQ(sql.find("refused"), std::string::npos) << sql;
  }
  // Outside a transaction, none is left open, and another connection writes at once.
  RawDb other(file());
  other.exec("INSERT INTO t (id, note) VALUES (2, 'other')");
  // The cached statement goes on.
  EXPECT_EQ(c->exec(insert, {std::int64_t{3}, std::string("third")}).changed, 1);
  EXPECT_EQ(c->exec("SELECT COUNT(*) FROM t").integer(0, 0), 3);
  EXPECT_EQ(c->statements().prepared(), 2);
}

TEST_F(SqliteStatements, AStatementThatFailsMidWayInATransactionIsRolledBackAndReset) {
  const std::unique_ptr<SqliteConnection> c = connect();
  c->exec_script("CREATE TABLE t (id INTEGER PRIMARY KEY, doc TEXT)");
  c->exec_script("INSERT INTO t VALUES (1, '{}'), (2, 'not json'), (3, '{}')");
  // json() fails on the second row, after the first was read.
  const std::string sql = "SELECT id, json(doc) FROM t WHERE id >= $1 ORDER BY id";
  EXPECT_THROW(c->transaction("writing", /*writable=*/true,
                              [&] {
                                c->exec("INSERT INTO t VALUES (4, '{}')");
                                c->exec(sql, {std::int64_t{1}});
                              }),
               StorageError);
  EXPECT_FALSE(c->statements().any_busy());
  EXPECT_EQ(raw_sql(file(), "SELECT COUNT(*) FROM t"), "3");  // rolled back, and not locked
  EXPECT_EQ(c->exec(sql, {std::int64_t{3}}).size(), 1);
}

TEST_F(SqliteStatements, ACachedStatementFollowsAnotherConnectionsSchemaChange) {
  const std::unique_ptr<SqliteConnection> c = connect();
  c->exec_script("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1)");
  const std::string sql = "SELECT * FROM t";
  EXPECT_EQ(c->exec(sql).columns, std::vector<std::string>{"a"});
  raw_sql(file(), "ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 7");
  // SQLite prepares the cached statement again inside sqlite3_step (SQLITE_SCHEMA).
  const SqlRows r = c->exec(sql);
  EXPECT_EQ(r.columns, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(r.size(), 1);
  EXPECT_EQ(r.integer(0, 1), 7);
  EXPECT_EQ(c->statements().prepared(), 1);
  raw_sql(file(), "DROP TABLE t");
  EXPECT_THROW(c->exec(sql), StorageError);
  EXPECT_FALSE(c->statements().any_busy());
}

TEST_F(SqliteStatements, AStoreThatClosesLeavesTheFileClosed) {
  {
    std::shared_ptr<Storage> storage = Storage::open("sqlite://" + file().string());
    PersistentStudy study = PersistentStudy::create(storage, "s", test_space());
    study.tell(study.ask(1, "w").at(0).id, 1.0);
    EXPECT_GT(files().size(), 1u);  // the WAL and its index while open
  }
  // The last connection to close checkpoints and removes the WAL files: it did close (a
  // statement left unfinalized would keep it open as a zombie).
  EXPECT_EQ(files(), std::set<std::string>{"study.db"});
}

}  // namespace
}  // namespace gpbo
