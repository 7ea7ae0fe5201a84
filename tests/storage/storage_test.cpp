/// Tests for the storage layer: one conformance suite run against every store ("memory://", a
/// SQLite file, and a fresh schema on the PostgreSQL test server), then what only the SQLite
/// store has (persistence, schema version, bad files, concurrent connections). PostgreSQL's own
/// tests are in postgres_storage_test.cpp.
#include "gpbo/storage.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/persistent_study.hpp"
#include "storage/postgres_test_server.hpp"
#include "storage/raw_sqlite.hpp"
#include "storage/sql_storage.hpp"
#include "storage/temp_dir.hpp"

namespace gpbo {
namespace {

namespace fs = std::filesystem;

std::string sqlite_url(const fs::path& file) { return "sqlite://" + file.string(); }

Space test_space() {
  Space s;
  s.add_float("x", -5.0, 10.0).add_int("n", 0, 100).add_categorical("opt", {"adam", "sgd"});
  return s;
}

StudyInfo study_info(const std::string& name) {
  StudyInfo info;
  info.name = name;
  info.space_json = test_space().to_json();
  info.direction = Direction::kMaximize;
  info.options_json = R"({"seed":7})";
  info.state_json = R"({"queue":[]})";
  info.created_at = 1700000000.25;
  return info;
}

Trial make_trial(std::int64_t id, double x = 0.5) {
  Trial t;
  t.id = id;
  t.params = {{"x", x}, {"n", std::int64_t{3}}, {"opt", std::string("adam")}};
  t.state = TrialState::kRunning;
  t.worker_id = "w" + std::to_string(id);
  t.source = "initial";
  t.created_at = 100.0 + static_cast<double>(id);
  t.heartbeat_at = 101.0;
  t.lease_deadline = 200.5;
  return t;
}

void expect_same(const Trial& a, const Trial& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.worker_id, b.worker_id);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.heartbeat_at, b.heartbeat_at);
  EXPECT_EQ(a.lease_deadline, b.lease_deadline);
  EXPECT_EQ(a.values, b.values);
}

void expect_same(const LogEntry& a, const LogEntry& b) {
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.event, b.event);
  EXPECT_EQ(a.trial_id, b.trial_id);
  EXPECT_EQ(a.worker_id, b.worker_id);
  EXPECT_EQ(a.detail_json, b.detail_json);
}

std::vector<Trial> read_trials(Storage& storage, const std::string& study) {
  std::vector<Trial> out;
  storage.read(study, [&](StudyTransaction& tx) { out = tx.trials(); });
  return out;
}

std::string read_state(Storage& storage, const std::string& study) {
  std::string out;
  storage.read(study, [&](StudyTransaction& tx) { out = tx.study().state_json; });
  return out;
}

/// Appends one trial with the next free number; returns that number.
std::int64_t append_trial(Storage& storage, const std::string& study, const std::string& worker) {
  std::int64_t id = -1;
  storage.write(study, [&](StudyTransaction& tx) {
    id = static_cast<std::int64_t>(tx.trials().size());
    Trial t = make_trial(id);
    t.worker_id = worker;
    tx.insert_trial(t);
  });
  return id;
}

// Runs `f`, expects an exception of type E and returns its message.
template <typename E, typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "nothing was thrown";
  return "";
}

// ---------------------------------------------------------------- both stores

/// The same contract, run against "memory", "sqlite" and "postgres" (skipped, with a message,
/// when there is no PostgreSQL test server).
class StorageConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      std::string why;
      const std::string url = test::postgres_url(&why);
      if (url.empty()) GTEST_SKIP() << why;
      schema_ = std::make_unique<test::PostgresSchema>(url);  // a fresh schema per test
    }
    storage_ = open();
  }

  /// Another handle on the same store: a new connection for SQLite and PostgreSQL, a new (and
  /// empty) object in memory.
  std::unique_ptr<Storage> open() {
    if (GetParam() == "memory") return Storage::open("memory://");
    if (GetParam() == "postgres") return Storage::open(schema_->url());
    return Storage::open(sqlite_url(dir_.path() / "store.db"));
  }
  bool shared_by_opens() const { return GetParam() != "memory"; }

  TempDir dir_{"gpbo-storage"};
  std::unique_ptr<test::PostgresSchema> schema_;
  std::unique_ptr<Storage> storage_;
};

TEST_P(StorageConformance, CreatesListsAndDeletesStudies) {
  Storage& s = *storage_;
  EXPECT_TRUE(s.list_studies().empty());
  for (const char* name : {"beta", "alpha", "gamma"}) s.create_study(study_info(name));

  const std::vector<StudyInfo> studies = s.list_studies();
  ASSERT_EQ(studies.size(), 3u);
  EXPECT_EQ(studies[0].name, "alpha");  // ordered by name
  EXPECT_EQ(studies[1].name, "beta");
  EXPECT_EQ(studies[2].name, "gamma");
  const StudyInfo expected = study_info("alpha");
  EXPECT_EQ(studies[0].space_json, expected.space_json);
  EXPECT_EQ(studies[0].direction, Direction::kMaximize);
  EXPECT_EQ(studies[0].options_json, expected.options_json);
  EXPECT_EQ(studies[0].state_json, expected.state_json);
  EXPECT_EQ(studies[0].created_at, expected.created_at);

  const std::vector<LogEntry> log = s.log("alpha");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].event, "create");

  EXPECT_NE(message_of<Conflict>([&] { s.create_study(study_info("beta")); }).find("beta"),
            std::string::npos);
  EXPECT_THROW(s.delete_study("delta"), NotFound);

  append_trial(s, "beta", "w");
  s.delete_study("beta");
  ASSERT_EQ(s.list_studies().size(), 2u);
  EXPECT_THROW(s.write("beta", [](StudyTransaction&) {}), NotFound);
  EXPECT_THROW(s.read("beta", [](StudyTransaction&) {}), NotFound);
  EXPECT_THROW(s.log("beta"), NotFound);

  // A study created again under the name starts empty: the old trials and log went with it.
  StudyInfo again = study_info("beta");
  again.created_at = 0.0;  // unset: the store fills in the current time
  s.create_study(again);
  EXPECT_TRUE(read_trials(s, "beta").empty());
  EXPECT_EQ(s.log("beta").size(), 1u);
  EXPECT_GT(s.list_studies()[1].created_at, 1.6e9);
}

TEST_P(StorageConformance, RejectsInvalidStudies) {
  Storage& s = *storage_;
  StudyInfo info = study_info("");
  EXPECT_THROW(s.create_study(info), InvalidArgument);
  info.name = "bad";
  info.space_json = "{\"params\": 3}";
  EXPECT_THROW(s.create_study(info), InvalidArgument);
  info = study_info("bad");
  info.options_json = "{not json";
  EXPECT_THROW(s.create_study(info), InvalidArgument);
  EXPECT_TRUE(s.list_studies().empty());
}

TEST_P(StorageConformance, WritesAreReadBack) {
  Storage& s = *storage_;
  s.create_study(study_info("s"));
  Trial first = make_trial(0, 1.5);
  Trial second = make_trial(1, -2.25);
  LogEntry entry{123.5, "ask", 1, "w1", R"({"q":2})"};
  s.write("s", [&](StudyTransaction& tx) {
    EXPECT_EQ(tx.study().name, "s");
    tx.insert_trial(first);
    tx.insert_trial(second);
    tx.set_state_json(R"({"hyper":[1,2]})");
    tx.append_log(entry);
    // Reads inside the transaction see its own writes.
    ASSERT_EQ(tx.trials().size(), 2u);
    EXPECT_EQ(tx.study().state_json, R"({"hyper":[1,2]})");
  });

  first.state = TrialState::kComplete;
  first.value = 0.125;
  first.finished_at = 150.75;
  first.worker_id = "other";
  s.write("s", [&](StudyTransaction& tx) { tx.update_trial(first); });
  second.state = TrialState::kFailed;
  s.write("s", [&](StudyTransaction& tx) { tx.update_trial(second); });

  const std::vector<Trial> trials = read_trials(s, "s");
  ASSERT_EQ(trials.size(), 2u);
  expect_same(trials[0], first);
  expect_same(trials[1], second);
  EXPECT_FALSE(trials[1].value.has_value());
  EXPECT_EQ(read_state(s, "s"), R"({"hyper":[1,2]})");
  EXPECT_EQ(s.list_studies()[0].state_json, R"({"hyper":[1,2]})");

  const std::vector<LogEntry> log = s.log("s");
  ASSERT_EQ(log.size(), 2u);
  expect_same(log[1], entry);

  if (shared_by_opens()) {  // another connection sees the committed data
    const std::unique_ptr<Storage> other = open();
    ASSERT_EQ(read_trials(*other, "s").size(), 2u);
    expect_same(read_trials(*other, "s")[0], first);
  }
}

TEST_P(StorageConformance, MetricValuesRoundTripExactly) {
  Storage& s = *storage_;
  s.create_study(study_info("s"));
  Trial t = make_trial(0);
  s.write("s", [&](StudyTransaction& tx) { tx.insert_trial(t); });
  t.state = TrialState::kComplete;
  t.values = {{"acc", 0.1 + 0.2}, {"latency_ms", -1e-300}, {"λ (µs)", 12345678.9}};
  t.finished_at = 3.0;
  s.write("s", [&](StudyTransaction& tx) { tx.update_trial(t); });
  Trial classic = make_trial(1, 0.5);  // no values: the classic form
  s.write("s", [&](StudyTransaction& tx) { tx.insert_trial(classic); });
  const std::vector<Trial> back = read_trials(s, "s");
  ASSERT_EQ(back.size(), 2u);
  expect_same(back[0], t);
  expect_same(back[1], classic);
  EXPECT_TRUE(back[1].values.empty());
  // A non-finite metric value is refused before anything is written.
  Trial bad = t;
  bad.values["acc"] = std::nan("");
  EXPECT_THROW(s.write("s", [&](StudyTransaction& tx) { tx.update_trial(bad); }), InvalidArgument);
  expect_same(read_trials(s, "s")[0], t);
}

TEST_P(StorageConformance, IntermediateValuesRoundTripExactly) {
  Storage& s = *storage_;
  s.create_study(study_info("s"));
  Trial t = make_trial(0);
  s.write("s", [&](StudyTransaction& tx) { tx.insert_trial(t); });
  t.intermediate = {{0, 0.1 + 0.2}, {3, -1e-300}, {1000000000000, 12345678.9}};
  s.write("s", [&](StudyTransaction& tx) { tx.update_trial(t); });
  EXPECT_EQ(read_trials(s, "s")[0].intermediate, t.intermediate);
  EXPECT_EQ(s.log("s").size(), 1u);  // the store logs nothing of its own
  if (shared_by_opens()) {
    std::vector<Trial> again;
    open()->read("s", [&](StudyTransaction& tx) { again = tx.trials(); });
    EXPECT_EQ(again[0].intermediate, t.intermediate);
  }
  // Steps out of order, a repeated step, a non-finite value: refused, nothing written.
  for (const std::vector<IntermediateValue>& bad : std::vector<std::vector<IntermediateValue>>{
           {{2, 1.0}, {1, 1.0}}, {{2, 1.0}, {2, 1.0}}, {{1, std::nan("")}}, {{-1, 1.0}}}) {
    Trial b = t;
    b.intermediate = bad;
    EXPECT_THROW(s.write("s", [&](StudyTransaction& tx) { tx.update_trial(b); }), InvalidArgument);
  }
  EXPECT_EQ(read_trials(s, "s")[0].intermediate, t.intermediate);
}

TEST_P(StorageConformance, ThrowingFunctionRollsBackEverything) {
  Storage& s = *storage_;
  s.create_study(study_info("s"));
  const Trial original = make_trial(0);
  s.write("s", [&](StudyTransaction& tx) { tx.insert_trial(original); });

  struct Boom : std::runtime_error {
    Boom() : std::runtime_error("boom") {}
  };
  EXPECT_THROW(s.write("s",
                       [&](StudyTransaction& tx) {
                         Trial changed = original;
                         changed.state = TrialState::kComplete;
                         changed.value = 1.0;
                         tx.update_trial(changed);
                         tx.insert_trial(make_trial(1));
                         tx.set_state_json(R"({"changed":true})");
                         tx.append_log(LogEntry{1.0, "tell", 0, "w", "{}"});
                         throw Boom();  // rethrown as is
                       }),
               Boom);

  const std::vector<Trial> trials = read_trials(s, "s");
  ASSERT_EQ(trials.size(), 1u);
  expect_same(trials[0], original);
  EXPECT_EQ(read_state(s, "s"), study_info("s").state_json);
  EXPECT_EQ(s.log("s").size(), 1u);

  // A storage error inside the transaction rolls back the earlier writes of it too.
  EXPECT_THROW(s.write("s",
                       [&](StudyTransaction& tx) {
                         tx.insert_trial(make_trial(1));
                         tx.insert_trial(make_trial(5));  // not the next number: Conflict
                       }),
               Conflict);
  EXPECT_EQ(read_trials(s, "s").size(), 1u);
}

TEST_P(StorageConformance, TrialIdsAreChecked) {
  Storage& s = *storage_;
  s.create_study(study_info("s"));
  EXPECT_THROW(s.write("s", [](StudyTransaction& tx) { tx.insert_trial(make_trial(1)); }),
               Conflict);
  s.write("s", [](StudyTransaction& tx) { tx.insert_trial(make_trial(0)); });
  EXPECT_THROW(s.write("s", [](StudyTransaction& tx) { tx.insert_trial(make_trial(0)); }),
               Conflict);
  EXPECT_THROW(s.write("s", [](StudyTransaction& tx) { tx.update_trial(make_trial(1)); }),
               NotFound);
  EXPECT_THROW(s.write("s", [](StudyTransaction& tx) { tx.insert_trial(make_trial(-1)); }),
               InvalidArgument);
  EXPECT_EQ(read_trials(s, "s").size(), 1u);
}

TEST_P(StorageConformance, OneTrialAndTheCountMatchTheFullRead) {
  Storage& s = *storage_;
  s.create_study(study_info("s"));
  s.read("s", [](StudyTransaction& tx) {
    EXPECT_EQ(tx.trial_count(), 0);
    EXPECT_THROW(tx.trial(0), NotFound);
  });
  s.write("s", [](StudyTransaction& tx) {
    for (int i = 0; i < 5; ++i) {
      Trial t = make_trial(i);
      t.worker_id = "w" + std::to_string(i);
      t.value = 0.5 * i;
      tx.insert_trial(t);
      EXPECT_EQ(tx.trial_count(), i + 1);  // sees its own writes
    }
    Trial t = tx.trial(3);
    t.state = TrialState::kComplete;
    tx.update_trial(t);
  });
  s.read("s", [](StudyTransaction& tx) {
    const std::vector<Trial> all = tx.trials();
    ASSERT_EQ(tx.trial_count(), static_cast<std::int64_t>(all.size()));
    for (const Trial& t : all) {
      const Trial one = tx.trial(t.id);
      EXPECT_EQ(one.id, t.id);
      EXPECT_EQ(one.params, t.params);
      EXPECT_EQ(one.state, t.state);
      EXPECT_EQ(one.value, t.value);
      EXPECT_EQ(one.worker_id, t.worker_id);
      EXPECT_EQ(one.lease_deadline, t.lease_deadline);
    }
    EXPECT_EQ(tx.trial(3).state, TrialState::kComplete);
    EXPECT_THROW(tx.trial(5), NotFound);
    EXPECT_THROW(tx.trial(-1), NotFound);
  });
}

TEST_P(StorageConformance, ParamsRoundTripExactly) {
  Storage& s = *storage_;
  s.create_study(study_info("s"));
  const std::vector<double> floats = {0.1,
                                      -0.0,
                                      1e-300,
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::max(),
                                      std::nextafter(1.0, 2.0),
                                      -4.999999999999999,
                                      3.0};
  const std::vector<std::int64_t> ints = {0, -7, std::numeric_limits<std::int64_t>::max(),
                                          std::numeric_limits<std::int64_t>::min()};
  const std::vector<std::string> choices = {"adam", "", "quote\" back\\slash",
                                            "\xc3\xbcnic\xc3\xb8"
                                            "de"};
  std::vector<Params> written;
  for (std::size_t i = 0; i < floats.size(); ++i) {
    written.push_back(
        {{"x", floats[i]}, {"n", ints[i % ints.size()]}, {"opt", choices[i % choices.size()]}});
  }
  s.write("s", [&](StudyTransaction& tx) {
    for (std::size_t i = 0; i < written.size(); ++i) {
      Trial t = make_trial(static_cast<std::int64_t>(i));
      t.params = written[i];
      tx.insert_trial(t);
    }
  });
  const std::vector<Trial> trials = read_trials(s, "s");
  ASSERT_EQ(trials.size(), written.size());
  for (std::size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(trials[i].params, written[i]) << "trial " << i;
    const double x = std::get<double>(trials[i].params.at("x"));
    EXPECT_EQ(std::signbit(x), std::signbit(floats[i]));  // -0.0 stays -0.0
  }

  // Values are typed by the space: an integral double for an int comes back as an int, an int
  // for a float as a double; a parameter outside the space keeps its own type.
  Trial mixed = make_trial(static_cast<std::int64_t>(written.size()));
  mixed.params = {{"x", std::int64_t{2}},
                  {"n", 4.0},
                  {"opt", std::string("sgd")},
                  {"extra", 2.0},
                  {"extra_int", std::int64_t{9}}};
  s.write("s", [&](StudyTransaction& tx) { tx.insert_trial(mixed); });
  const Params back = read_trials(s, "s").back().params;
  EXPECT_EQ(back.at("x"), ParamValue(2.0));
  EXPECT_EQ(back.at("n"), ParamValue(std::int64_t{4}));
  EXPECT_EQ(back.at("extra"), ParamValue(2.0));
  EXPECT_EQ(back.at("extra_int"), ParamValue(std::int64_t{9}));

  // NaN and infinities are never stored, nor values of the wrong kind.
  const auto rejects = [&](const std::string& param, const ParamValue& v) {
    Trial t = make_trial(static_cast<std::int64_t>(written.size()) + 1);
    t.params[param] = v;
    EXPECT_THROW(s.write("s", [&](StudyTransaction& tx) { tx.insert_trial(t); }), InvalidArgument)
        << param << " = " << to_string(v);
  };
  rejects("x", std::numeric_limits<double>::quiet_NaN());
  rejects("x", std::numeric_limits<double>::infinity());
  rejects("x", std::string("adam"));
  rejects("n", 2.5);
  rejects("opt", 1.0);
  Trial nan_value = make_trial(static_cast<std::int64_t>(written.size()) + 1);
  nan_value.value = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(s.write("s", [&](StudyTransaction& tx) { tx.insert_trial(nan_value); }),
               InvalidArgument);
  EXPECT_EQ(read_trials(s, "s").size(), written.size() + 1);
}

TEST_P(StorageConformance, LogKeepsAppendOrder) {
  Storage& s = *storage_;
  s.create_study(study_info("s"));
  s.create_study(study_info("t"));
  std::vector<LogEntry> appended;
  for (int i = 0; i < 6; ++i) {
    // Times out of order: the log keeps the order of appends, not of times.
    appended.push_back(LogEntry{1000.0 - i, i % 2 == 0 ? "ask" : "tell", i,
                                "worker-" + std::to_string(i),
                                "{\"i\":" + std::to_string(i) + "}"});
  }
  s.write("s", [&](StudyTransaction& tx) {
    tx.append_log(appended[0]);
    tx.append_log(appended[1]);
  });
  s.write("t", [&](StudyTransaction& tx) { tx.append_log(LogEntry{5.0, "ask", 0, "x", "{}"}); });
  s.write("s", [&](StudyTransaction& tx) {
    for (int i = 2; i < 6; ++i) tx.append_log(appended[i]);
  });
  const std::vector<LogEntry> log = s.log("s");
  ASSERT_EQ(log.size(), 7u);
  EXPECT_EQ(log[0].event, "create");
  EXPECT_EQ(log[0].trial_id, -1);
  for (int i = 0; i < 6; ++i) expect_same(log[i + 1], appended[i]);
  EXPECT_EQ(s.log("t").size(), 2u);

  EXPECT_THROW(s.write("s",
                       [](StudyTransaction& tx) {
                         tx.append_log(LogEntry{1.0, "ask", 0, "", "{oops"});
                       }),
               InvalidArgument);
  EXPECT_EQ(s.log("s").size(), 7u);
}

TEST_P(StorageConformance, ReadTransactionRejectsWrites) {
  Storage& s = *storage_;
  s.create_study(study_info("s"));
  append_trial(s, "s", "w0");
  s.read("s", [](StudyTransaction& tx) {
    EXPECT_THROW(tx.insert_trial(make_trial(1)), StorageError);
    EXPECT_THROW(tx.update_trial(make_trial(0, 2.0)), StorageError);
    EXPECT_THROW(tx.set_state_json("{}"), StorageError);
    EXPECT_THROW(tx.append_log(LogEntry{}), StorageError);
  });
  const std::vector<Trial> trials = read_trials(s, "s");
  ASSERT_EQ(trials.size(), 1u);
  expect_same(trials[0], make_trial(0));
}

TEST_P(StorageConformance, CallsFromInsideTransactionsThrow) {
  Storage& s = *storage_;
  s.create_study(study_info("s"));
  EXPECT_THROW(s.write("s", [&](StudyTransaction&) { s.log("s"); }), StorageError);
  EXPECT_THROW(s.read("s", [&](StudyTransaction&) { s.write("s", [](StudyTransaction&) {}); }),
               StorageError);
  append_trial(s, "s", "w");  // the store is usable afterwards
  EXPECT_EQ(read_trials(s, "s").size(), 1u);
}

TEST_P(StorageConformance, ConcurrentWritersGetDistinctIds) {
  // SQLite: 8 connections on one file, contending for the write lock (busy waits and retries).
  // PostgreSQL: 8 connections, contending for the study row's lock. Memory: 8 threads on one
  // object.
  constexpr int kThreads = 8;
  constexpr int kWrites = 50;
  storage_->create_study(study_info("s"));
  std::vector<std::unique_ptr<Storage>> handles;
  for (int t = 0; t < kThreads; ++t) handles.push_back(shared_by_opens() ? open() : nullptr);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Storage& s = handles[t] ? *handles[t] : *storage_;
      try {
        for (int i = 0; i < kWrites; ++i) append_trial(s, "s", "worker-" + std::to_string(t));
      } catch (const std::exception& e) {
        ++errors;
        ADD_FAILURE() << "thread " << t << ": " << e.what();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);

  const std::vector<Trial> trials = read_trials(*storage_, "s");
  ASSERT_EQ(trials.size(), static_cast<std::size_t>(kThreads * kWrites));
  std::map<std::string, int> per_worker;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].id, static_cast<std::int64_t>(i));
    ++per_worker[trials[i].worker_id];
  }
  EXPECT_EQ(per_worker.size(), static_cast<std::size_t>(kThreads));
  for (const auto& [worker, count] : per_worker) EXPECT_EQ(count, kWrites) << worker;
}

INSTANTIATE_TEST_SUITE_P(Storage, StorageConformance,
                         ::testing::Values("memory", "sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// ---------------------------------------------------------------- URLs

TEST(StorageUrl, RejectsUnknownSchemes) {
  for (const std::string url :
       {"postgresql:/db", "postgres:db", "sqlite:/x.db", "sqlite://", "memory:", ""}) {
    const std::string message = message_of<InvalidArgument>([&] { Storage::open(url); });
    EXPECT_NE(message.find("'" + url + "'"), std::string::npos) << message;
  }
  const std::string message = message_of<InvalidArgument>([] { Storage::open("mysql://h"); });
  EXPECT_NE(message.find("sqlite:///"), std::string::npos) << message;
  EXPECT_NE(message.find("memory://"), std::string::npos) << message;
  EXPECT_NE(message.find("postgresql://"), std::string::npos) << message;
}

TEST(StorageUrl, MemoryStoresAreIndependent) {
  const auto a = Storage::open("memory://");
  const auto b = Storage::open("memory://");
  a->create_study(study_info("s"));
  EXPECT_TRUE(b->list_studies().empty());
}

TEST(StorageUrl, RelativeSqlitePathIsRelativeToTheWorkingDirectory) {
  TempDir dir{"gpbo-storage"};
  const fs::path relative = fs::relative(dir.path() / "rel.db", fs::current_path());
  ASSERT_TRUE(relative.is_relative());
  Storage::open("sqlite://" + relative.string())->create_study(study_info("s"));
  EXPECT_TRUE(fs::exists(dir.path() / "rel.db"));
}

// ---------------------------------------------------------------- SQLite only

std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class StorageSqlite : public ::testing::Test {
 protected:
  fs::path file() const { return dir_.path() / "study.db"; }
  std::unique_ptr<Storage> open() { return Storage::open(sqlite_url(file())); }
  /// Files in the temp directory other than `file()` (journals, WAL, shared memory).
  std::set<std::string> side_files() const {
    std::set<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
      if (entry.path() != file()) out.insert(entry.path().filename().string());
    }
    return out;
  }

  TempDir dir_{"gpbo-storage"};
};

TEST_F(StorageSqlite, ReopenedFileHasEverything) {
  Trial trial = make_trial(0, 7.5);
  trial.state = TrialState::kComplete;
  trial.value = -3.25;
  {
    const auto s = open();
    s->create_study(study_info("s"));
    s->write("s", [&](StudyTransaction& tx) {
      tx.insert_trial(trial);
      tx.set_state_json(R"({"kept":1})");
      tx.append_log(LogEntry{9.5, "tell", 0, "w0", R"({"value":-3.25})"});
    });
  }
  const auto s = open();
  ASSERT_EQ(s->list_studies().size(), 1u);
  const std::vector<Trial> trials = read_trials(*s, "s");
  ASSERT_EQ(trials.size(), 1u);
  expect_same(trials[0], trial);
  EXPECT_EQ(read_state(*s, "s"), R"({"kept":1})");
  ASSERT_EQ(s->log("s").size(), 2u);
  expect_same(s->log("s")[1], LogEntry{9.5, "tell", 0, "w0", R"({"value":-3.25})"});
}

TEST_F(StorageSqlite, SchemaIsTheCurrentVersionInWalMode) {
  open()->create_study(study_info("s"));
  EXPECT_EQ(raw_sql(file(), "SELECT version FROM schema_version"),
            std::to_string(SqlStorage::kSchemaVersion));
  EXPECT_EQ(raw_sql(file(), "SELECT COUNT(*) FROM schema_version"), "1");
  EXPECT_EQ(raw_sql(file(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw_sql(file(), "SELECT state FROM trials"), "");
  append_trial(*open(), "s", "w");
  EXPECT_EQ(raw_sql(file(), "SELECT state FROM trials"), "running");
  EXPECT_EQ(raw_sql(file(), "SELECT direction FROM studies"), "maximize");
}

TEST_F(StorageSqlite, AFileOfSchemaVersionOneUpgradesAndItsStudyGoesOn) {
  // tests/storage/fixtures/schema_v1.db: written by gpbo before metrics (schema 1): a study
  // "old" (maximize, seed 5, 4 initial points) with four complete trials, one failed and one
  // running, asked and told through the CLI.
  fs::copy_file(fs::path(GPBO_SOURCE_DIR) / "tests/storage/fixtures/schema_v1.db", file());
  EXPECT_EQ(raw_sql(file(), "SELECT version FROM schema_version"), "1");
  PersistentStudy study(open(), "old");
  EXPECT_EQ(raw_sql(file(), "SELECT version FROM schema_version"),
            std::to_string(SqlStorage::kSchemaVersion));
  const std::vector<Trial> trials = study.trials();
  ASSERT_EQ(trials.size(), 6u);
  EXPECT_EQ(trials[0].value, 1.5);
  EXPECT_EQ(trials[1].value, -2.25);
  EXPECT_EQ(trials[2].state, TrialState::kFailed);
  EXPECT_EQ(trials[5].state, TrialState::kRunning);
  for (const Trial& t : trials) EXPECT_TRUE(t.values.empty());
  EXPECT_EQ(study.best()->id, 3);  // 4.0, maximized
  const std::size_t logged = study.log().size();
  // The study goes on: a model-based ask, a tell.
  const std::vector<Trial> asked = study.ask(1, "new-worker");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].id, 6);
  EXPECT_EQ(study.tell(asked[0].id, 5.0).value, 5.0);
  EXPECT_EQ(study.best()->id, 6);
  EXPECT_GT(study.log().size(), logged);
}

TEST_F(StorageSqlite, NewerSchemaVersionIsRefused) {
  open()->create_study(study_info("s"));
  raw_sql(file(), "UPDATE schema_version SET version = 5");
  const std::string message = message_of<StorageError>([&] { open(); });
  EXPECT_NE(message.find("database schema version 5 is newer than this gpbo supports (4)"),
            std::string::npos)
      << message;
  EXPECT_EQ(raw_sql(file(), "SELECT version FROM schema_version"), "5");  // left alone
}

TEST_F(StorageSqlite, CorruptFileIsRefusedUntouched) {
  std::mt19937 rng(3);
  std::string junk(8192, '\0');
  for (char& c : junk) c = static_cast<char>(rng());
  std::ofstream(file(), std::ios::binary).write(junk.data(), static_cast<long>(junk.size()));

  const std::string message = message_of<StorageError>([&] { open(); });
  EXPECT_NE(message.find(file().string()), std::string::npos) << message;
  EXPECT_NE(message.find("not a database"), std::string::npos) << message;  // SQLite's words
  EXPECT_EQ(file_bytes(file()), junk);
  EXPECT_TRUE(side_files().empty());
}

TEST_F(StorageSqlite, ForeignDatabaseIsRefusedUntouched) {
  raw_sql(file(), "CREATE TABLE accounts (id INTEGER PRIMARY KEY)");
  const std::string before = file_bytes(file());
  const std::string message = message_of<StorageError>([&] { open(); });
  EXPECT_NE(message.find("not a gpbo database"), std::string::npos) << message;
  EXPECT_EQ(file_bytes(file()), before);
  EXPECT_EQ(raw_sql(file(), "SELECT COUNT(*) FROM sqlite_master"), "1");
}

TEST_F(StorageSqlite, MissingDirectoryIsReported) {
  const fs::path missing = dir_.path() / "no-such-dir" / "study.db";
  const std::string message = message_of<StorageError>([&] { Storage::open(sqlite_url(missing)); });
  EXPECT_NE(message.find(missing.string()), std::string::npos) << message;
  EXPECT_NE(message.find("unable to open database file"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(missing.parent_path()));
}

// Permissions cannot be tested when the tests run as root (as in CI containers): root writes to
// read-only files and directories regardless. Then the missing-directory and corrupt-file cases
// above are the "cannot write" coverage.
TEST_F(StorageSqlite, ReadOnlyFileRefusesWrites) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  open()->create_study(study_info("s"));
  fs::permissions(file(), fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir_.path(), fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(
      {
        const auto s = open();
        append_trial(*s, "s", "w");
      },
      StorageError);
  fs::permissions(dir_.path(), fs::perms::owner_all);
}

TEST_F(StorageSqlite, ConnectionsRacingOnANewFileCreateOneSchema) {
  constexpr int kThreads = 8;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      try {
        open();
      } catch (const std::exception& e) {
        ++errors;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(raw_sql(file(), "SELECT COUNT(*) FROM schema_version"), "1");
  EXPECT_EQ(raw_sql(file(), "SELECT version FROM schema_version"),
            std::to_string(SqlStorage::kSchemaVersion));
}

TEST_F(StorageSqlite, WriteWaitsForAnotherWriter) {
  const auto s = open();
  s->create_study(study_info("s"));
  // A raw connection holds the write lock for a while; write() must wait, not fail.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(file().c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NO_THROW(append_trial(*s, "s", "w"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  release.join();
  sqlite3_close(raw);
  EXPECT_EQ(read_trials(*s, "s").size(), 1u);
}

}  // namespace
}  // namespace gpbo
