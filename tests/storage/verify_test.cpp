/// Tests for the log's hash chain and verify_study: every store chains its entries (memory,
/// SQLite, PostgreSQL), the writer is stored and hashed, concurrent writers make one chain, and
/// each kind of tampering (a forged, deleted or reordered entry, an edited trial row) is found
/// where it is. The SQL stores are tampered with through SQL, as someone with the file would.
#include "gpbo/verify.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/sha256.hpp"
#include "gpbo/error.hpp"
#include "gpbo/persistent_study.hpp"
#include "storage/postgres_test_server.hpp"
#include "storage/raw_sqlite.hpp"
#include "storage/sql_storage.hpp"
#include "storage/temp_dir.hpp"

namespace gpbo {
namespace {

namespace fs = std::filesystem;

Space test_space() {
  Space s;
  s.add_float("x", -5.0, 10.0).add_int("n", 0, 100).add_categorical("opt", {"adam", "sgd"});
  return s;
}

/// Sobol points only (no model fit): asks are quick.
StudyOptions quick_options() {
  StudyOptions o;
  o.n_initial = 200;
  o.seed = 3;
  return o;
}

/// Every event a study logs: create, asks, tells, a failure, a prune, a heartbeat, an enqueued
/// point and an import (a worker that left a trial running gets it back: an ask that resumes).
/// Returns the number of trials.
int fill(PersistentStudy& study, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    for (const Trial& t : study.ask(2, "w" + std::to_string(i % 3))) {
      if (t.id % 7 == 3) {
        study.tell_state(t.id, TrialState::kFailed);
      } else if (t.id % 7 == 5) {
        study.heartbeat(t.id);
        study.tell_state(t.id, TrialState::kPruned);
      } else if (t.id % 7 != 6) {  // 6: left running
        study.tell(t.id, 0.25 * static_cast<double>(t.id) - 1.0 / 3.0);
      }
    }
  }
  study.enqueue({{"x", 1.5}, {"n", std::int64_t{4}}, {"opt", std::string("sgd")}});
  study.ask(1, "w-enqueued");
  Trial old;
  old.params = {{"x", -2.0}, {"n", std::int64_t{9}}, {"opt", std::string("adam")}};
  old.state = TrialState::kComplete;
  old.value = 7.125;
  study.add_trials({old});
  return static_cast<int>(study.trials().size());
}

/// The chain on every store ("memory", "sqlite", "postgres"; the last skipped, with a message,
/// without a PostgreSQL test server).
class Chain : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      std::string why;
      const std::string url = test::postgres_url(&why);
      if (url.empty()) GTEST_SKIP() << why;
      schema_ = std::make_unique<test::PostgresSchema>(url);
    }
    storage_ = open();
  }

  std::shared_ptr<Storage> open() {
    if (GetParam() == "memory") return Storage::open("memory://");
    if (GetParam() == "postgres") return Storage::open(schema_->url());
    return Storage::open("sqlite://" + (dir_.path() / "store.db").string());
  }

  /// Tampering from outside the store (SQLite and PostgreSQL: see ChainTamper).
  std::string sql(const std::string& statement) {
    if (GetParam() == "postgres") return schema_->sql(statement);
    return raw_sql(dir_.path() / "store.db", statement);
  }

  /// A study of `rounds` rounds of asks and tells; verified intact.
  PersistentStudy filled(int rounds = 10) {
    PersistentStudy study = PersistentStudy::create(storage_, "s", test_space(), quick_options());
    fill(study, rounds);
    const VerifyReport r = verify_study(*storage_, "s");
    EXPECT_TRUE(r.ok) << r.message;
    return study;
  }

  std::string id_at(std::int64_t seq) {
    return sql("SELECT id FROM log WHERE seq = " + std::to_string(seq));
  }

  TempDir dir_{"gpbo-verify"};
  std::unique_ptr<test::PostgresSchema> schema_;
  std::shared_ptr<Storage> storage_;
};

TEST_P(Chain, ManyAsksAndTellsMakeOneChainThatVerifies) {
  PersistentStudy study = PersistentStudy::create(storage_, "s", test_space(), quick_options());
  const int n = fill(study, 30);
  const std::vector<LogEntry> log = study.log();
  ASSERT_GT(log.size(), 60u);
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].seq, static_cast<std::int64_t>(i));
    EXPECT_EQ(log[i].prev_hash, i == 0 ? "" : log[i - 1].hash);
    EXPECT_EQ(log[i].hash.size(), 64u);
    EXPECT_EQ(log[i].hash, log_entry_hash("s", log[i]));
  }
  const VerifyReport r = study.verify();
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.entries, static_cast<std::int64_t>(log.size()));
  EXPECT_EQ(r.trials, n);
  EXPECT_EQ(r.head, log.back().hash);
  EXPECT_EQ(r.message, "");
  // Another study's chain is its own: it starts again at 0.
  PersistentStudy other = PersistentStudy::create(storage_, "t", test_space(), quick_options());
  EXPECT_EQ(other.log().front().seq, 0);
  EXPECT_EQ(other.log().front().prev_hash, "");
  EXPECT_TRUE(other.verify().ok);
}

TEST_P(Chain, TheWriterIsStoredAndHashed) {
  std::shared_ptr<Storage> s = storage_;
  {
    WriterScope scope("alice");
    PersistentStudy::create(s, "s", test_space(), quick_options());
  }
  PersistentStudy study(s, "s");
  std::vector<Trial> asked;
  {
    WriterScope scope("bob");
    asked = study.ask(1, "w");
  }
  study.tell(asked[0].id, 1.0);
  const std::vector<LogEntry> log = study.log();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].writer, "alice");  // the store's own "create" entry
  EXPECT_EQ(log[1].writer, "bob");
  EXPECT_EQ(log[2].writer, "");
  LogEntry renamed = log[1];
  renamed.writer = "mallory";
  EXPECT_NE(log_entry_hash("s", renamed), log[1].hash);
  if (GetParam() == "memory") return;
  sql("UPDATE log SET writer = 'mallory' WHERE seq = 1");
  const VerifyReport r = study.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "hash");
  EXPECT_EQ(r.position, 1);
  EXPECT_EQ(r.event, "ask");
}

/// Tampering through SQL, as someone with the file or the database would: the SQL stores only.
class ChainTamper : public Chain {};

TEST_P(ChainTamper, AForgedEntryIsFoundAtItsPosition) {
  PersistentStudy study = filled();
  const std::int64_t seq = 9;
  const std::string event = sql("SELECT event FROM log WHERE seq = 9");
  sql("UPDATE log SET detail_json = '{\"value\":-1000}' WHERE seq = 9");
  const VerifyReport r = study.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "hash");
  EXPECT_EQ(r.position, seq);
  EXPECT_EQ(r.seq, seq);
  EXPECT_EQ(r.event, event);
  EXPECT_EQ(r.entries, seq);  // the entries before it hold
  EXPECT_NE(r.message.find("log entry 9 "), std::string::npos) << r.message;
}

TEST_P(ChainTamper, ADeletedEntryIsFoundAtItsPosition) {
  PersistentStudy study = filled();
  sql("DELETE FROM log WHERE seq = 6");
  const VerifyReport r = study.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "sequence");
  EXPECT_EQ(r.position, 6);
  EXPECT_EQ(r.seq, 7);
  EXPECT_NE(r.message.find("entry 6 is missing"), std::string::npos) << r.message;
}

TEST_P(ChainTamper, TwoReorderedEntriesAreFoundAtTheFirst) {
  PersistentStudy study = filled();
  // The log is read in id order: swap the ids of entries 4 and 5.
  const std::string a = id_at(4);
  const std::string b = id_at(5);
  sql("UPDATE log SET id = -1 WHERE id = " + a);
  sql("UPDATE log SET id = " + a + " WHERE id = " + b);
  sql("UPDATE log SET id = " + b + " WHERE id = -1");
  const VerifyReport r = study.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "sequence");
  EXPECT_EQ(r.position, 4);
  EXPECT_EQ(r.seq, 5);
  EXPECT_NE(r.message.find("out of order"), std::string::npos) << r.message;
}

TEST_P(ChainTamper, ARechainedForgeryBreaksTheLinkToTheNextEntry) {
  PersistentStudy study = filled();
  // A forger who also recomputes the forged entry's hash: the next entry's prev_hash gives it
  // away.
  std::vector<LogEntry> log = study.log();
  LogEntry forged = log[8];
  forged.detail_json = R"({"value":-1000})";
  forged.hash = log_entry_hash("s", forged);
  sql("UPDATE log SET detail_json = '" + forged.detail_json + "', hash = '" + forged.hash +
      "' WHERE seq = 8");
  const VerifyReport r = study.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "prev_hash");
  EXPECT_EQ(r.position, 9);
}

TEST_P(ChainTamper, AnEditedTrialRowIsFoundByName) {
  PersistentStudy study = filled();
  const Trial t = study.trial(4);
  ASSERT_EQ(t.state, TrialState::kComplete);
  sql("UPDATE trials SET value = 123.5 WHERE number = 4");
  VerifyReport r = study.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, "trial");
  EXPECT_EQ(r.trial_id, 4);
  EXPECT_EQ(r.field, "value");
  EXPECT_EQ(r.position, -1);
  EXPECT_NE(r.message.find("trial 4: value is 123.5 in the table"), std::string::npos) << r.message;

  sql("UPDATE trials SET value = " + nlohmann::json(*t.value).dump() + " WHERE number = 4");
  EXPECT_TRUE(study.verify().ok) << study.verify().message;
  sql("UPDATE trials SET state = 'complete', value = 2.0 WHERE number = 3");  // was failed
  r = study.verify();
  EXPECT_EQ(r.trial_id, 3);
  EXPECT_EQ(r.field, "state");
}

TEST_P(Chain, ConcurrentWritersStillMakeOneChain) {
  PersistentStudy::create(storage_, "s", test_space(), quick_options());
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      // SQL stores: a connection per thread, like separate processes.
      std::shared_ptr<Storage> s = GetParam() == "memory" ? storage_ : open();
      WriterScope scope("writer-" + std::to_string(w));
      PersistentStudy study(s, "s");
      for (int i = 0; i < 8; ++i) {
        for (const Trial& t : study.ask(1, "w" + std::to_string(w))) study.tell(t.id, 1.0 * i);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const VerifyReport r = verify_study(*storage_, "s");
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.trials, 32);
  EXPECT_EQ(r.entries, 1 + 2 * 32);
}

INSTANTIATE_TEST_SUITE_P(Storage, Chain, ::testing::Values("memory", "sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });
INSTANTIATE_TEST_SUITE_P(Storage, ChainTamper, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(LogEntryHash, IsTheSha256OfTheDocumentedForm) {
  LogEntry e{1700000000.25, "tell", 12, "w1", R"({"value":0.1})", "alice"};
  e.seq = 7;
  e.prev_hash = std::string(64, 'a');
  const std::string form = "gpbo-log-v1" + std::string("5:study") + "1:7" + "13:1700000000.25" +
                           "4:tell" + "2:12" + "2:w1" + "13:{\"value\":0.1}" + "5:alice" +
                           "64:" + std::string(64, 'a');
  EXPECT_EQ(log_entry_hash("study", e), sha256_hex(form));
  // Length prefixes: moving bytes between fields changes the hash.
  LogEntry moved = e;
  moved.worker_id = "w";
  moved.writer = "1alice";
  EXPECT_NE(log_entry_hash("study", moved), log_entry_hash("study", e));
  // The time with every digit: the next double has another hash.
  LogEntry later = e;
  later.time = std::nextafter(e.time, 2e9);
  EXPECT_NE(log_entry_hash("study", later), log_entry_hash("study", e));
}

// ---------------------------------------------------------------- upgrades

class ChainUpgrade : public ::testing::Test {
 protected:
  fs::path file() const { return dir_.path() / "old.db"; }
  void copy_fixture(const char* name) {
    fs::copy_file(fs::path(GPBO_SOURCE_DIR) / "tests/storage/fixtures" / name, file());
  }
  std::shared_ptr<Storage> open() { return Storage::open("sqlite://" + file().string()); }
  TempDir dir_{"gpbo-verify"};
};

TEST_F(ChainUpgrade, AVersionOneFileIsChainedOnOpenAndVerifies) {
  copy_fixture("schema_v1.db");
  ASSERT_EQ(raw_sql(file(), "SELECT version FROM schema_version"), "1");
  std::shared_ptr<Storage> s = open();
  EXPECT_EQ(raw_sql(file(), "SELECT version FROM schema_version"),
            std::to_string(SqlStorage::kSchemaVersion));
  EXPECT_EQ(raw_sql(file(), "SELECT COUNT(*) FROM log WHERE hash IS NULL"), "0");
  PersistentStudy study(s, "old");
  VerifyReport r = study.verify();
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.entries, 12);
  EXPECT_EQ(r.trials, 6);
  // Opening again changes nothing; the study goes on and still verifies.
  const std::string head = r.head;
  EXPECT_EQ(PersistentStudy(open(), "old").verify().head, head);
  const std::vector<Trial> asked = study.ask(1, "new-worker");
  study.tell(asked[0].id, 5.0);
  r = study.verify();
  EXPECT_TRUE(r.ok) << r.message;
  // The fixture's running trial has outlived its lease by now: the ask may log its expiry first.
  EXPECT_GE(r.entries, 14);
  EXPECT_EQ(study.log()[12].prev_hash, head);
}

TEST_F(ChainUpgrade, AVersionTwoFileIsChainedOnOpenAndVerifies) {
  // tests/storage/fixtures/schema_v2.db: written by gpbo at schema 2 through the CLI: "metrics"
  // (acc maximized, latency_ms <= 20; three complete trials, one failed, one running) and
  // "plain" (an ask told -0.5, an enqueued point asked and pruned).
  copy_fixture("schema_v2.db");
  ASSERT_EQ(raw_sql(file(), "SELECT version FROM schema_version"), "2");
  std::shared_ptr<Storage> s = open();
  EXPECT_EQ(raw_sql(file(), "SELECT version FROM schema_version"),
            std::to_string(SqlStorage::kSchemaVersion));
  PersistentStudy metrics(s, "metrics");
  VerifyReport r = metrics.verify();
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.entries, 10);
  EXPECT_EQ(r.trials, 5);
  EXPECT_EQ(metrics.trial(3).values.at("latency_ms"), 8.0);
  r = PersistentStudy(s, "plain").verify();
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.entries, 6);
  // Each study's chain starts at its own first entry.
  EXPECT_EQ(PersistentStudy(s, "plain").log().front().seq, 0);
  // A value changed in the old file is still found.
  raw_sql(file(),
          "UPDATE trials SET values_json = '{\"acc\":0.99,\"latency_ms\":12.5}', "
          "value = 0.99 WHERE number = 0 AND study_id = 1");
  r = metrics.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.trial_id, 0);
  EXPECT_EQ(r.field, "value");
}

}  // namespace
}  // namespace gpbo
