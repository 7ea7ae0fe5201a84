// The C API (gpbo/gpbo.h): every entry point on the in-memory and the SQLite store, its status
// codes, NULL handling, the thread-local last error, and the JSON it returns.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "gpbo/gpbo.h"

namespace {

using nlohmann::json;

const char* const kSpace =
    R"({"params": [{"name": "x", "type": "float", "low": -2.0, "high": 2.0},
                   {"name": "k", "type": "int", "low": 1, "high": 5},
                   {"name": "c", "type": "categorical", "choices": ["a", "b"]}]})";
const char* const kOptions =
    R"({"seed": 3, "n_initial": 3, "lease_seconds": 600, "requeue_expired": false,
        "batch_method": "greedy"})";

/// Takes ownership of a string returned by the API and parses it.
json take_json(char* text) {
  EXPECT_NE(text, nullptr);
  if (text == nullptr) return json();
  const std::string s = text;
  gpbo_free(text);
  return json::parse(s);
}

void expect_trial_keys(const json& t) {
  ASSERT_TRUE(t.is_object()) << t.dump();
  for (const char* key : {"id", "state", "params", "value", "worker_id", "source", "created_at",
                          "finished_at", "lease_deadline"}) {
    EXPECT_TRUE(t.contains(key)) << "missing '" << key << "' in " << t.dump();
  }
  EXPECT_EQ(t.size(), 9u) << t.dump();
  EXPECT_TRUE(t.at("id").is_number_integer());
  EXPECT_TRUE(t.at("params").is_object());
  EXPECT_TRUE(t.at("params").contains("x"));
  EXPECT_TRUE(t.at("params").contains("k"));
  EXPECT_TRUE(t.at("params").contains("c"));
}

/// Asserts a failure with `status` and a non-empty last error.
#define EXPECT_STATUS(call, status)                                  \
  do {                                                               \
    const int got_ = (call);                                         \
    EXPECT_EQ(got_, (status)) << #call << ": " << gpbo_last_error(); \
    if ((status) != GPBO_OK) EXPECT_STRNE(gpbo_last_error(), "");    \
  } while (0)

std::string temp_db_path(const std::string& tag) {
  static std::atomic<int> counter{0};
  return (std::filesystem::temp_directory_path() /
          ("gpbo_capi_test_" + std::to_string(::getpid()) + "_" + tag + "_" +
           std::to_string(counter++) + ".db"))
      .string();
}

void remove_db(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path + suffix, ec);
  }
}

/// A store of each kind, opened fresh for every test.
class CApiStore : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      path_ = temp_db_path("store");
      url_ = "sqlite://" + path_;
    } else {
      url_ = "memory://";
    }
    ASSERT_EQ(gpbo_storage_open(url_.c_str(), &storage_), GPBO_OK) << gpbo_last_error();
    ASSERT_NE(storage_, nullptr);
  }
  void TearDown() override {
    gpbo_storage_close(storage_);
    if (!path_.empty()) remove_db(path_);
  }

  gpbo_study* create(const char* name = "s", const char* options = kOptions,
                     const char* direction = "minimize") {
    gpbo_study* study = nullptr;
    EXPECT_EQ(gpbo_study_create(storage_, name, kSpace, direction, options, &study), GPBO_OK)
        << gpbo_last_error();
    EXPECT_NE(study, nullptr);
    return study;
  }

  json ask(gpbo_study* study, int q = 1, const char* worker = nullptr) {
    char* out = nullptr;
    EXPECT_EQ(gpbo_study_ask(study, q, worker, &out), GPBO_OK) << gpbo_last_error();
    return take_json(out);
  }

  std::string trials_text(gpbo_study* study) {
    char* out = nullptr;
    EXPECT_EQ(gpbo_study_trials(study, &out), GPBO_OK) << gpbo_last_error();
    const std::string s = out != nullptr ? out : "";
    gpbo_free(out);
    return s;
  }

  std::string url_;
  std::string path_;
  gpbo_storage* storage_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(CApi, CApiStore, ::testing::Values("memory", "sqlite"),
                         [](const auto& info) { return info.param; });

TEST(CApiBasics, VersionMatchesTheHeader) {
  ASSERT_NE(gpbo_version(), nullptr);
  EXPECT_STREQ(gpbo_version(), GPBO_VERSION_STRING);
  EXPECT_EQ(std::to_string(GPBO_VERSION_MAJOR) + "." + std::to_string(GPBO_VERSION_MINOR) + "." +
                std::to_string(GPBO_VERSION_PATCH),
            GPBO_VERSION_STRING);
}

TEST(CApiBasics, CloseAndFreeAcceptNull) {
  gpbo_storage_close(nullptr);
  gpbo_study_close(nullptr);
  gpbo_free(nullptr);
  ASSERT_NE(gpbo_last_error(), nullptr);
}

TEST_P(CApiStore, IntermediateValuesPruneAndCost) {
  gpbo_study* study = create();
  const json batch = ask(study, 2, "w1");
  const std::int64_t id0 = batch["trials"][0]["id"].get<std::int64_t>();
  const std::int64_t id1 = batch["trials"][1]["id"].get<std::int64_t>();
  int prune = -1;
  EXPECT_STATUS(gpbo_study_report_value(study, id0, 1, 2.0, &prune), GPBO_OK);
  EXPECT_EQ(prune, 0);  // the default median rule waits for 5 complete trials
  EXPECT_STATUS(gpbo_study_report_value(study, id0, 2, 1.0, &prune), GPBO_OK);
  // Bad input: steps out of order, the same step again with another value, a non-finite value,
  // a NULL out-parameter, an unknown trial.
  EXPECT_STATUS(gpbo_study_report_value(study, id0, 1, 0.5, &prune), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gpbo_last_error()).find("strictly increase"), std::string::npos);
  EXPECT_STATUS(gpbo_study_report_value(study, id0, 2, 0.5, &prune), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_report_value(study, id0, 3, std::nan(""), &prune),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_report_value(study, id0, 3, 0.5, nullptr), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_report_value(study, 99, 1, 0.5, &prune), GPBO_ERR_NOT_FOUND);
  // A pruned trial keeps its last value; a finished trial takes no more values.
  EXPECT_STATUS(gpbo_study_tell_state(study, id0, "pruned"), GPBO_OK);
  EXPECT_STATUS(gpbo_study_report_value(study, id0, 3, 0.5, &prune), GPBO_ERR_CONFLICT);
  EXPECT_STATUS(gpbo_study_tell(study, id1, 3.0), GPBO_OK);
  char* out = nullptr;
  EXPECT_STATUS(gpbo_study_cost(study, &out), GPBO_OK);
  const json cost = take_json(out);
  EXPECT_EQ(cost.at("pruned"), 1);
  EXPECT_EQ(cost.at("complete"), 1);
  EXPECT_EQ(cost.at("steps"), 2);
  EXPECT_GE(cost.at("trial_seconds").get<double>(), 0.0);
  EXPECT_STATUS(gpbo_study_cost(study, nullptr), GPBO_ERR_INVALID_ARGUMENT);
  gpbo_study_close(study);
}

TEST_P(CApiStore, EveryFunctionsHappyPath) {
  gpbo_study* study = create();

  // ask: a batch of two, leased to a worker.
  const json batch = ask(study, 2, "w1");
  ASSERT_TRUE(batch.contains("trials"));
  ASSERT_EQ(batch.at("trials").size(), 2u);
  EXPECT_STREQ(gpbo_last_error(), "");
  for (const json& t : batch.at("trials")) {
    expect_trial_keys(t);
    EXPECT_EQ(t.at("state"), "running");
    EXPECT_EQ(t.at("worker_id"), "w1");
    EXPECT_TRUE(t.at("value").is_null());
    EXPECT_GT(t.at("lease_deadline").get<double>(), t.at("created_at").get<double>());
  }
  const std::int64_t id0 = batch["trials"][0]["id"].get<std::int64_t>();
  const std::int64_t id1 = batch["trials"][1]["id"].get<std::int64_t>();
  EXPECT_EQ(id0, 0);
  EXPECT_EQ(id1, 1);

  // The same worker asking again gets its running trials back.
  const json again = ask(study, 1, "w1");
  ASSERT_EQ(again.at("trials").size(), 2u);
  EXPECT_EQ(again["trials"][0]["id"], id0);

  // heartbeat, tell, tell_state.
  EXPECT_STATUS(gpbo_study_heartbeat(study, id0), GPBO_OK);
  EXPECT_STATUS(gpbo_study_tell(study, id0, 1.5), GPBO_OK);
  EXPECT_STATUS(gpbo_study_tell(study, id0, 1.5), GPBO_OK);  // the same value: a no-op
  EXPECT_STATUS(gpbo_study_tell_state(study, id1, "pruned"), GPBO_OK);
  EXPECT_STATUS(gpbo_study_tell_state(study, id1, "pruned"), GPBO_OK);

  // An anonymous ask (worker_id NULL), failed.
  const json anon = ask(study);
  ASSERT_EQ(anon.at("trials").size(), 1u);
  const std::int64_t id2 = anon["trials"][0]["id"].get<std::int64_t>();
  EXPECT_EQ(anon["trials"][0]["worker_id"], "");
  EXPECT_STATUS(gpbo_study_tell_state(study, id2, "failed"), GPBO_OK);

  // enqueue: the next ask returns the point as given.
  EXPECT_STATUS(gpbo_study_enqueue(study, R"({"x": 0.25, "k": 2, "c": "b"})"), GPBO_OK);
  const json queued = ask(study, 1, "w2");
  ASSERT_EQ(queued.at("trials").size(), 1u);
  const json& q = queued["trials"][0];
  EXPECT_EQ(q.at("source"), "enqueued");
  EXPECT_DOUBLE_EQ(q.at("params").at("x").get<double>(), 0.25);
  EXPECT_EQ(q.at("params").at("k"), 2);
  EXPECT_EQ(q.at("params").at("c"), "b");
  const std::int64_t id3 = q.at("id").get<std::int64_t>();
  EXPECT_STATUS(gpbo_study_tell(study, id3, -0.5), GPBO_OK);

  // best: the lowest complete value.
  char* best_text = nullptr;
  ASSERT_EQ(gpbo_study_best(study, &best_text), GPBO_OK) << gpbo_last_error();
  const json best = take_json(best_text);
  expect_trial_keys(best);
  EXPECT_EQ(best.at("id"), id3);
  EXPECT_EQ(best.at("state"), "complete");
  EXPECT_DOUBLE_EQ(best.at("value").get<double>(), -0.5);
  EXPECT_GT(best.at("finished_at").get<double>(), 0.0);

  // trials: every trial, ordered by id, in its state.
  const json all = json::parse(trials_text(study));
  ASSERT_EQ(all.at("trials").size(), 4u);
  const std::vector<std::string> states = {"complete", "pruned", "failed", "complete"};
  for (std::size_t i = 0; i < 4; ++i) {
    expect_trial_keys(all["trials"][i]);
    EXPECT_EQ(all["trials"][i]["id"], static_cast<std::int64_t>(i));
    EXPECT_EQ(all["trials"][i]["state"], states[i]);
  }

  // open: a second handle sees the same study, and outlives the storage handle.
  gpbo_study* other = nullptr;
  ASSERT_EQ(gpbo_study_open(storage_, "s", &other), GPBO_OK) << gpbo_last_error();
  EXPECT_EQ(trials_text(other), trials_text(study));
  gpbo_study_close(study);
  gpbo_storage_close(storage_);
  storage_ = nullptr;
  const json later = ask(other, 1, "w3");
  EXPECT_EQ(later.at("trials").size(), 1u);
  EXPECT_EQ(json::parse(trials_text(other)).at("trials").size(), 5u);
  gpbo_study_close(other);
}

TEST_P(CApiStore, ModelBasedAsksAfterTheInitialDesign) {
  gpbo_study* study = create("model", R"({"seed": 1, "n_initial": 4})");
  for (int i = 0; i < 7; ++i) {
    const json got = ask(study, 1, "w");
    ASSERT_EQ(got.at("trials").size(), 1u);
    const json& t = got["trials"][0];
    EXPECT_EQ(t.at("source"), i < 4 ? "initial" : "model");
    const double x = t["params"]["x"].get<double>();
    EXPECT_STATUS(gpbo_study_tell(study, t["id"].get<std::int64_t>(), x * x), GPBO_OK);
  }
  gpbo_study_close(study);
}

// gp.memory_limit_gb through the C API: the ask that would need more fails with
// GPBO_ERR_INVALID_ARGUMENT, a message naming n and the option, and no trial added.
TEST_P(CApiStore, AModelOverTheMemoryLimitIsRefusedCleanly) {
  gpbo_study* study =
      create("mem", R"({"seed": 3, "n_initial": 4, "gp": {"memory_limit_gb": 1e-9}})");
  for (int i = 0; i < 4; ++i) {
    const json t = ask(study).at("trials").at(0);
    EXPECT_STATUS(
        gpbo_study_tell(study, t["id"].get<std::int64_t>(), t["params"]["x"].get<double>()),
        GPBO_OK);
  }
  char* out = nullptr;
  EXPECT_STATUS(gpbo_study_ask(study, 1, nullptr, &out), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(out, nullptr);
  const std::string message = gpbo_last_error();
  EXPECT_NE(message.find("4 observations"), std::string::npos) << message;
  EXPECT_NE(message.find("gp.memory_limit_gb"), std::string::npos) << message;
  EXPECT_EQ(json::parse(trials_text(study)).at("trials").size(), 4u);
  gpbo_study_close(study);
}

TEST_P(CApiStore, WarmModelKeepsTheFactorBetweenAsks) {
  gpbo_study* study = create("warm", R"({"seed": 2, "n_initial": 4})");
  EXPECT_STATUS(gpbo_study_keep_model_warm(nullptr, 0.1, 25), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_keep_model_warm(study, -1.0, 25), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_keep_model_warm(study, 0.1, 0), GPBO_ERR_INVALID_ARGUMENT);
  // No refit in this test (growth 10, every 1000 trials): every model ask after the first
  // extends the factor the first one made.
  EXPECT_STATUS(gpbo_study_keep_model_warm(study, 10.0, 1000), GPBO_OK);
  for (int i = 0; i < 8; ++i) {
    const json t = ask(study, 1, "w").at("trials").at(0);
    const double x = t["params"]["x"].get<double>();
    EXPECT_STATUS(gpbo_study_tell(study, t["id"].get<std::int64_t>(), x * x), GPBO_OK);
  }
  char* out = nullptr;
  EXPECT_STATUS(gpbo_study_log(study, &out), GPBO_OK);
  const json log = take_json(out);
  std::vector<bool> resident;
  for (const json& e : log.at("log")) {
    if (e.at("event") == "ask" && e.at("detail").contains("model")) {
      resident.push_back(e["detail"]["model"].at("resident").get<bool>());
    }
  }
  EXPECT_EQ(resident, (std::vector<bool>{false, true, true, true}));
  gpbo_study_close(study);
}

TEST_P(CApiStore, AskFixedPinsValuesAndConstraintsHold) {
  const char* space =
      R"({"params": [{"name": "x", "type": "float", "low": 0.0, "high": 2.0},
                     {"name": "y", "type": "float", "low": 0.0, "high": 2.0},
                     {"name": "k", "type": "int", "low": 1, "high": 5}],
          "constraints": [{"terms": {"x": 1, "y": 1}, "<=": 1.5}]})";
  gpbo_study* study = nullptr;
  ASSERT_EQ(gpbo_study_create(storage_, "lin", space, "minimize", kOptions, &study), GPBO_OK)
      << gpbo_last_error();
  for (int i = 0; i < 8; ++i) {
    char* out = nullptr;
    const char* fixed = i % 2 ? R"({"k": 4})" : nullptr;
    ASSERT_EQ(gpbo_study_ask_fixed(study, 2, "w", fixed, &out), GPBO_OK) << gpbo_last_error();
    for (const json& t : take_json(out).at("trials")) {
      const double x = t["params"]["x"], y = t["params"]["y"];
      EXPECT_LE(x + y, 1.5) << t;
      if (fixed != nullptr) EXPECT_EQ(t["params"]["k"], 4) << t;
      EXPECT_STATUS(gpbo_study_tell(study, t["id"].get<std::int64_t>(), (x - 1) * (x - 1) + y),
                    GPBO_OK);
    }
  }
  const std::string before = trials_text(study);
  char* out = nullptr;
  for (const char* bad :
       {"{", "[1]", R"({"zz": 1})", R"({"k": 6})", R"({"k": 2.5})", R"({"x": 1.0, "y": 1.0})"}) {
    EXPECT_STATUS(gpbo_study_ask_fixed(study, 1, "v", bad, &out), GPBO_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, nullptr);
  }
  EXPECT_STATUS(gpbo_study_enqueue(study, R"({"x": 1.0, "y": 1.0, "k": 1})"),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(gpbo_last_error()).find("constraints[0]"), std::string::npos);
  EXPECT_EQ(trials_text(study), before);
  // A constraint no point of the box meets refuses the study.
  gpbo_study* none = nullptr;
  EXPECT_STATUS(gpbo_study_create(storage_, "none",
                                  R"({"params": [{"name": "x", "type": "float", "low": 0,
                                      "high": 1}], "constraints": [{"terms": {"x": 1}, ">=": 2}]})",
                                  "minimize", kOptions, &none),
                GPBO_ERR_INVALID_ARGUMENT);
  gpbo_study_close(study);
}

TEST_P(CApiStore, MaximizeDirectionPicksTheHighestValue) {
  gpbo_study* study = create("max", nullptr, "maximize");  // default options
  for (double v : {1.0, 3.0, 2.0}) {
    const json got = ask(study);
    EXPECT_STATUS(gpbo_study_tell(study, got["trials"][0]["id"].get<std::int64_t>(), v), GPBO_OK);
  }
  char* text = nullptr;
  ASSERT_EQ(gpbo_study_best(study, &text), GPBO_OK) << gpbo_last_error();
  EXPECT_DOUBLE_EQ(take_json(text).at("value").get<double>(), 3.0);
  gpbo_study_close(study);
}

TEST_P(CApiStore, StudiesPersistAcrossHandles) {
  gpbo_study* study = create("kept");
  const json got = ask(study);
  EXPECT_STATUS(gpbo_study_tell(study, got["trials"][0]["id"].get<std::int64_t>(), 4.0), GPBO_OK);
  const std::string before = trials_text(study);
  gpbo_study_close(study);

  // The same store handle: always there.
  ASSERT_EQ(gpbo_study_open(storage_, "kept", &study), GPBO_OK) << gpbo_last_error();
  EXPECT_EQ(trials_text(study), before);
  gpbo_study_close(study);

  // A new store handle on the same URL: the file keeps it; memory:// is a fresh store.
  gpbo_storage* reopened = nullptr;
  ASSERT_EQ(gpbo_storage_open(url_.c_str(), &reopened), GPBO_OK) << gpbo_last_error();
  study = reinterpret_cast<gpbo_study*>(0x1);
  const int status = gpbo_study_open(reopened, "kept", &study);
  if (GetParam() == "sqlite") {
    ASSERT_EQ(status, GPBO_OK) << gpbo_last_error();
    EXPECT_EQ(trials_text(study), before);
  } else {
    EXPECT_EQ(status, GPBO_ERR_NOT_FOUND);
    EXPECT_EQ(study, nullptr);
  }
  gpbo_study_close(study);
  gpbo_storage_close(reopened);
}

TEST_P(CApiStore, NullArgumentsAreInvalid) {
  gpbo_study* study = create();
  gpbo_storage* storage = nullptr;
  gpbo_study* out = nullptr;
  char* text = nullptr;

  auto expect_null_error = [](int status, const char* argument) {
    EXPECT_EQ(status, GPBO_ERR_INVALID_ARGUMENT) << argument;
    EXPECT_NE(std::string(gpbo_last_error()).find(argument), std::string::npos)
        << "'" << gpbo_last_error() << "' does not name " << argument;
    EXPECT_NE(std::string(gpbo_last_error()).find("NULL"), std::string::npos);
  };

  expect_null_error(gpbo_storage_open(nullptr, &storage), "url");
  expect_null_error(gpbo_storage_open("memory://", nullptr), "out");

  expect_null_error(gpbo_study_create(nullptr, "n", kSpace, "minimize", nullptr, &out), "storage");
  expect_null_error(gpbo_study_create(storage_, nullptr, kSpace, "minimize", nullptr, &out),
                    "name");
  expect_null_error(gpbo_study_create(storage_, "n", nullptr, "minimize", nullptr, &out),
                    "space_json");
  expect_null_error(gpbo_study_create(storage_, "n", kSpace, nullptr, nullptr, &out), "direction");
  expect_null_error(gpbo_study_create(storage_, "n", kSpace, "minimize", nullptr, nullptr), "out");

  expect_null_error(gpbo_study_open(nullptr, "s", &out), "storage");
  expect_null_error(gpbo_study_open(storage_, nullptr, &out), "name");
  expect_null_error(gpbo_study_open(storage_, "s", nullptr), "out");

  expect_null_error(gpbo_study_ask(nullptr, 1, nullptr, &text), "study");
  expect_null_error(gpbo_study_ask(study, 1, nullptr, nullptr), "trials_json_out");
  expect_null_error(gpbo_study_tell(nullptr, 0, 1.0), "study");
  expect_null_error(gpbo_study_tell_state(nullptr, 0, "failed"), "study");
  expect_null_error(gpbo_study_tell_state(study, 0, nullptr), "state");
  expect_null_error(gpbo_study_heartbeat(nullptr, 0), "study");
  expect_null_error(gpbo_study_enqueue(nullptr, "{}"), "study");
  expect_null_error(gpbo_study_enqueue(study, nullptr), "params_json");
  expect_null_error(gpbo_study_best(nullptr, &text), "study");
  expect_null_error(gpbo_study_best(study, nullptr), "trial_json_out");
  expect_null_error(gpbo_study_trials(nullptr, &text), "study");
  expect_null_error(gpbo_study_trials(study, nullptr), "trials_json_out");

  EXPECT_EQ(storage, nullptr);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(text, nullptr);
  // Nothing was created or asked by the failed calls.
  EXPECT_EQ(json::parse(trials_text(study)).at("trials").size(), 0u);
  EXPECT_EQ(gpbo_study_open(storage_, "n", &out), GPBO_ERR_NOT_FOUND);
  gpbo_study_close(study);
}

TEST_P(CApiStore, UnknownStudyIsNotFound) {
  gpbo_study* study = reinterpret_cast<gpbo_study*>(0x1);
  EXPECT_STATUS(gpbo_study_open(storage_, "nope", &study), GPBO_ERR_NOT_FOUND);
  EXPECT_EQ(study, nullptr);
  EXPECT_NE(std::string(gpbo_last_error()).find("nope"), std::string::npos) << gpbo_last_error();
}

TEST_P(CApiStore, DuplicateCreateIsConflict) {
  gpbo_study* first = create("dup");
  gpbo_study* second = reinterpret_cast<gpbo_study*>(0x1);
  EXPECT_STATUS(gpbo_study_create(storage_, "dup", kSpace, "minimize", nullptr, &second),
                GPBO_ERR_CONFLICT);
  EXPECT_EQ(second, nullptr);
  gpbo_study_close(first);
}

TEST_P(CApiStore, MalformedCreateArgumentsAreInvalid) {
  gpbo_study* study = reinterpret_cast<gpbo_study*>(0x1);
  EXPECT_STATUS(gpbo_study_create(storage_, "s", "{not json", "minimize", nullptr, &study),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(study, nullptr);
  EXPECT_STATUS(gpbo_study_create(storage_, "s", R"({"params": [{"name": "x", "type": "float",
                                  "low": 2, "high": 1}]})",
                                  "minimize", nullptr, &study),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_create(storage_, "s", R"({"params": []})", "minimize", nullptr, &study),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_create(storage_, "s", kSpace, "sideways", nullptr, &study),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_create(storage_, "s", kSpace, "minimize", "{bad", &study),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_create(storage_, "s", kSpace, "minimize", R"({"colour": 1})", &study),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(
      gpbo_study_create(storage_, "s", kSpace, "minimize", R"({"n_initial": -1})", &study),
      GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_create(storage_, "s", kSpace, "minimize", R"({"seed": "x"})", &study),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_create(storage_, "", kSpace, "minimize", nullptr, &study),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(study, nullptr);
  // None of them created the study.
  EXPECT_STATUS(gpbo_study_open(storage_, "s", &study), GPBO_ERR_NOT_FOUND);
}

TEST_P(CApiStore, NonFiniteValueIsInvalidAndWritesNothing) {
  gpbo_study* study = create();
  const json got = ask(study);
  const std::int64_t id = got["trials"][0]["id"].get<std::int64_t>();
  const std::string before = trials_text(study);
  EXPECT_STATUS(gpbo_study_tell(study, id, std::numeric_limits<double>::quiet_NaN()),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(trials_text(study), before);
  EXPECT_STATUS(gpbo_study_tell(study, id, std::numeric_limits<double>::infinity()),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_tell(study, id, -std::numeric_limits<double>::infinity()),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(trials_text(study), before);
  // The trial is still running and can be told a real value.
  EXPECT_STATUS(gpbo_study_tell(study, id, 2.0), GPBO_OK);
  gpbo_study_close(study);
}

TEST_P(CApiStore, SecondDifferentTellIsConflict) {
  gpbo_study* study = create();
  const json got = ask(study, 2);
  const std::int64_t id0 = got["trials"][0]["id"].get<std::int64_t>();
  const std::int64_t id1 = got["trials"][1]["id"].get<std::int64_t>();
  EXPECT_STATUS(gpbo_study_tell(study, id0, 1.0), GPBO_OK);
  const std::string before = trials_text(study);
  EXPECT_STATUS(gpbo_study_tell(study, id0, 2.0), GPBO_ERR_CONFLICT);
  EXPECT_STATUS(gpbo_study_tell_state(study, id0, "failed"), GPBO_ERR_CONFLICT);
  EXPECT_STATUS(gpbo_study_heartbeat(study, id0), GPBO_ERR_CONFLICT);
  EXPECT_STATUS(gpbo_study_tell_state(study, id1, "failed"), GPBO_OK);
  EXPECT_STATUS(gpbo_study_tell(study, id1, 1.0), GPBO_ERR_CONFLICT);
  EXPECT_STATUS(gpbo_study_tell_state(study, id1, "pruned"), GPBO_ERR_CONFLICT);
  const json after = json::parse(trials_text(study));
  EXPECT_EQ(after["trials"][0], json::parse(before)["trials"][0]);
  EXPECT_DOUBLE_EQ(after["trials"][0]["value"].get<double>(), 1.0);
  gpbo_study_close(study);
}

TEST_P(CApiStore, UnknownTrialsAndBadStatesAndBadAsks) {
  gpbo_study* study = create();
  EXPECT_STATUS(gpbo_study_tell(study, 0, 1.0), GPBO_ERR_NOT_FOUND);
  EXPECT_STATUS(gpbo_study_tell(study, -1, 1.0), GPBO_ERR_NOT_FOUND);
  EXPECT_STATUS(gpbo_study_tell_state(study, 7, "failed"), GPBO_ERR_NOT_FOUND);
  EXPECT_STATUS(gpbo_study_heartbeat(study, 7), GPBO_ERR_NOT_FOUND);
  char* text = reinterpret_cast<char*>(0x1);
  EXPECT_STATUS(gpbo_study_best(study, &text), GPBO_ERR_NOT_FOUND);  // nothing complete yet
  EXPECT_EQ(text, nullptr);
  text = reinterpret_cast<char*>(0x1);
  EXPECT_STATUS(gpbo_study_ask(study, 0, nullptr, &text), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(text, nullptr);
  const json got = ask(study);
  const std::int64_t id = got["trials"][0]["id"].get<std::int64_t>();
  for (const char* state : {"complete", "running", "done", ""}) {
    EXPECT_STATUS(gpbo_study_tell_state(study, id, state), GPBO_ERR_INVALID_ARGUMENT);
  }
  EXPECT_EQ(json::parse(trials_text(study))["trials"][0]["state"], "running");
  gpbo_study_close(study);
}

TEST_P(CApiStore, BadEnqueueWritesNothing) {
  gpbo_study* study = create();
  EXPECT_STATUS(gpbo_study_enqueue(study, "{oops"), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_enqueue(study, R"({"x": 9.0, "k": 2, "c": "a"})"),
                GPBO_ERR_INVALID_ARGUMENT);  // out of bounds
  EXPECT_STATUS(gpbo_study_enqueue(study, R"({"x": 0.0, "k": 2})"),
                GPBO_ERR_INVALID_ARGUMENT);  // missing c
  EXPECT_STATUS(gpbo_study_enqueue(study, R"({"x": 0.0, "k": 2, "c": "z"})"),
                GPBO_ERR_INVALID_ARGUMENT);  // not a choice
  EXPECT_STATUS(gpbo_study_enqueue(study, R"([1, 2])"), GPBO_ERR_INVALID_ARGUMENT);
  const json got = ask(study);
  EXPECT_EQ(got["trials"][0]["source"], "initial");
  gpbo_study_close(study);
}

TEST_P(CApiStore, ConditionalSpaceAsksHoldTheActiveParametersOnly) {
  const char* space = R"({"params": [
    {"name": "opt", "type": "categorical", "choices": ["sgd", "adam"]},
    {"name": "momentum", "type": "float", "low": 0, "high": 1,
     "condition": {"parent": "opt", "in": ["sgd"]}},
    {"name": "layers", "type": "int", "low": 1, "high": 4},
    {"name": "units3", "type": "int", "low": 8, "high": 64,
     "condition": {"parent": "layers", "low": 3}}]})";
  gpbo_study* study = nullptr;
  ASSERT_EQ(gpbo_study_create(storage_, "cond", space, "minimize", kOptions, &study), GPBO_OK)
      << gpbo_last_error();
  for (int round = 0; round < 4; ++round) {
    const json got = ask(study, 2);
    for (const json& t : got["trials"]) {
      const json& p = t["params"];
      EXPECT_EQ(p.contains("momentum"), p["opt"] == "sgd") << p.dump();
      EXPECT_EQ(p.contains("units3"), p["layers"].get<int>() >= 3) << p.dump();
      EXPECT_EQ(p.size(), 2u + p.contains("momentum") + p.contains("units3")) << p.dump();
      EXPECT_STATUS(gpbo_study_tell(study, t["id"].get<std::int64_t>(), p["layers"].get<double>()),
                    GPBO_OK);
    }
  }
  const std::string before = trials_text(study);
  EXPECT_STATUS(gpbo_study_enqueue(study, R"({"opt": "adam", "momentum": 0.5, "layers": 1})"),
                GPBO_ERR_INVALID_ARGUMENT);  // momentum is inactive
  EXPECT_NE(std::string(gpbo_last_error()).find("momentum"), std::string::npos);
  EXPECT_STATUS(gpbo_study_enqueue(study, R"({"opt": "adam", "layers": 3})"),
                GPBO_ERR_INVALID_ARGUMENT);  // units3 is active and missing
  EXPECT_NE(std::string(gpbo_last_error()).find("units3"), std::string::npos);
  EXPECT_EQ(trials_text(study), before);
  EXPECT_STATUS(gpbo_study_enqueue(study, R"({"opt": "adam", "layers": 3, "units3": 9})"), GPBO_OK);
  gpbo_study_close(study);
  gpbo_study* bad = nullptr;
  EXPECT_STATUS(gpbo_study_create(storage_, "bad", R"([
    {"name": "a", "type": "float", "low": 0, "high": 1},
    {"name": "b", "type": "float", "low": 0, "high": 1, "condition": {"parent": "a", "low": 0}}])",
                                  "minimize", kOptions, &bad),
                GPBO_ERR_INVALID_ARGUMENT);  // a float parent
  EXPECT_EQ(bad, nullptr);
}

TEST_P(CApiStore, AddTrialsImportsAHistoryAndTheLogShowsIt) {
  gpbo_study* study = create();
  char* out = nullptr;
  // A bad entry refuses the whole call.
  EXPECT_STATUS(
      gpbo_study_add_trials(study,
                            R"({"trials": [{"params": {"x": 0.5, "k": 2, "c": "a"}, "value": 1.5},
                                   {"params": {"x": 9.0, "k": 2, "c": "a"}, "value": 1.0}]})",
                            &out),
      GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(out, nullptr);
  EXPECT_STATUS(gpbo_study_add_trials(study, "{\"trials\": 3}", &out), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_add_trials(study, "not json", &out), GPBO_ERR_INVALID_ARGUMENT);
  char* trials = nullptr;
  ASSERT_EQ(gpbo_study_trials(study, &trials), GPBO_OK);
  EXPECT_TRUE(take_json(trials).at("trials").empty());
  // Then a good one: the output of gpbo_study_trials' form reads back.
  ASSERT_EQ(
      gpbo_study_add_trials(study,
                            R"({"trials": [{"params": {"x": 0.5, "k": 2, "c": "a"}, "value": 1.5},
                               {"params": {"x": -0.5, "k": 1, "c": "b"}, "state": "failed"},
                               {"id": 7, "state": "complete", "params": {"x": 0.0, "k": 3,
                                "c": "a"}, "value": 0.25, "worker_id": "w", "source": "model",
                                "created_at": 5.0, "finished_at": 6.0, "lease_deadline": 0}]})",
                            &out),
      GPBO_OK)
      << gpbo_last_error();
  const json added = take_json(out).at("trials");
  ASSERT_EQ(added.size(), 3u);
  for (std::size_t i = 0; i < added.size(); ++i) {
    expect_trial_keys(added[i]);
    EXPECT_EQ(added[i].at("id"), i);
    EXPECT_EQ(added[i].at("source"), "imported");
  }
  EXPECT_EQ(added[1].at("state"), "failed");
  EXPECT_EQ(added[2].at("created_at"), 5.0);
  char* best = nullptr;
  ASSERT_EQ(gpbo_study_best(study, &best), GPBO_OK);
  EXPECT_EQ(take_json(best).at("value"), 0.25);
  char* log = nullptr;
  ASSERT_EQ(gpbo_study_log(study, &log), GPBO_OK);
  const json entries = take_json(log).at("log");
  int imports = 0;
  for (const json& e : entries) imports += e.at("event") == "import";
  EXPECT_EQ(imports, 3);
  // The log is a hash chain, and the trials agree with it.
  char* report = nullptr;
  ASSERT_EQ(gpbo_study_verify(study, &report), GPBO_OK) << gpbo_last_error();
  const json verified = take_json(report);
  EXPECT_EQ(verified.at("ok"), true) << verified.dump();
  EXPECT_EQ(verified.at("entries"), entries.size());
  EXPECT_EQ(verified.at("trials"), 3);
  EXPECT_EQ(verified.at("head"), entries.back().at("hash"));
  EXPECT_TRUE(verified.at("problem").is_null());
  EXPECT_EQ(entries.back().at("prev_hash"), entries[entries.size() - 2].at("hash"));
  const auto expect_null_error = [](int status, const char* argument) {
    EXPECT_EQ(status, GPBO_ERR_INVALID_ARGUMENT) << argument;
    EXPECT_NE(std::string(gpbo_last_error()).find(argument), std::string::npos)
        << "'" << gpbo_last_error() << "' does not name " << argument;
  };
  expect_null_error(gpbo_study_add_trials(nullptr, "{}", &out), "study");
  expect_null_error(gpbo_study_add_trials(study, nullptr, &out), "trials_json");
  expect_null_error(gpbo_study_add_trials(study, "{}", nullptr), "trials_json_out");
  expect_null_error(gpbo_study_log(study, nullptr), "log_json_out");
  expect_null_error(gpbo_study_verify(nullptr, &report), "study");
  expect_null_error(gpbo_study_verify(study, nullptr), "report_json_out");
  gpbo_study_close(study);
}

TEST_P(CApiStore, ReportIsOneHtmlPageOfTheStoredTrials) {
  gpbo_study* study = create("<script>alert(1)</script>");
  char* html = nullptr;
  // An empty study is a page too; it says there is nothing to show yet.
  ASSERT_EQ(gpbo_study_report(study, &html), GPBO_OK) << gpbo_last_error();
  std::string page = html;
  gpbo_free(html);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("This study has no trials yet"), std::string::npos);
  const json asked = ask(study, 4, "w1");
  for (const json& t : asked.at("trials")) {
    ASSERT_EQ(gpbo_study_tell(study, t.at("id").get<int64_t>(),
                              t.at("params").at("x").get<double>() + 1.0),
              GPBO_OK);
  }
  ASSERT_EQ(gpbo_study_report(study, &html), GPBO_OK) << gpbo_last_error();
  page = html;
  gpbo_free(html);
  for (const char* id :
       {"summary", "progress", "importance", "slices", "parallel", "provenance", "top"}) {
    EXPECT_NE(page.find(std::string("<section id=\"") + id + "\""), std::string::npos) << id;
  }
  EXPECT_EQ(page.find("<script"), std::string::npos);  // the name is text, never markup
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("4 trials ran"), std::string::npos);
  EXPECT_NE(page.find("<td>w1</td>"), std::string::npos);  // who reported each result
  EXPECT_STATUS(gpbo_study_report(study, nullptr), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_report(nullptr, &html), GPBO_ERR_INVALID_ARGUMENT);
  gpbo_study_close(study);
}

TEST_P(CApiStore, SeveralMetricsTellValuesAndAParetoFront) {
  const char* options =
      R"({"seed": 3, "n_initial": 3, "metrics": {"objectives": [{"name": "acc", "direction":
          "maximize"}, {"name": "ms"}], "constraints": [{"metric": "ms", "<=": 20}]}})";
  gpbo_study* wrong = nullptr;  // a direction against the first objective
  EXPECT_STATUS(gpbo_study_create(storage_, "wrong", kSpace, "minimize", options, &wrong),
                GPBO_ERR_INVALID_ARGUMENT);
  gpbo_study* study = create("mo", options, "maximize");
  const json asked = ask(study, 4);
  for (const json& t : asked.at("trials")) {
    const double x = t.at("params").at("x");
    const std::string values =
        json{{"acc", 1.0 - x * x}, {"ms", 15.0 + 5.0 * x}}.dump();  // feasible for x <= 1
    ASSERT_EQ(gpbo_study_tell_values(study, t.at("id").get<int64_t>(), values.c_str()), GPBO_OK)
        << gpbo_last_error();
  }
  const int64_t next = ask(study).at("trials")[0].at("id");
  const std::string before = trials_text(study);
  for (const char* bad : {R"({"acc": 0.5})", R"({"acc": 0.5, "ms": 1, "mem": 2})",
                          R"({"acc": "x", "ms": 1})", "not json", "[1]"}) {
    EXPECT_STATUS(gpbo_study_tell_values(study, next, bad), GPBO_ERR_INVALID_ARGUMENT);
  }
  EXPECT_STATUS(gpbo_study_tell(study, next, 0.5), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(trials_text(study), before);
  char* out = nullptr;
  ASSERT_EQ(gpbo_study_pareto(study, &out), GPBO_OK) << gpbo_last_error();
  const json front = take_json(out);
  EXPECT_EQ(front.at("objectives"), json({"acc", "ms"}));
  EXPECT_GT(front.at("hypervolume").get<double>(), 0.0);
  for (const json& t : front.at("trials")) EXPECT_LE(t.at("values").at("ms").get<double>(), 20.0);
  EXPECT_STATUS(gpbo_study_best(study, &out), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_pareto(study, nullptr), GPBO_ERR_INVALID_ARGUMENT);
  // Outliers are checked for one objective only (the metric model has no outlier check yet).
  ASSERT_EQ(gpbo_study_outliers(study, &out), GPBO_OK) << gpbo_last_error();
  EXPECT_EQ(take_json(out), json({{"outliers", json::array()}}));
  EXPECT_STATUS(gpbo_study_tell_values(nullptr, 0, "{}"), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_tell_values(study, next, nullptr), GPBO_ERR_INVALID_ARGUMENT);
  gpbo_study_close(study);
}

TEST_P(CApiStore, OutliersAreListed) {
  gpbo_study* study = create("robust", R"({"seed": 5, "n_initial": 4})", "minimize");
  for (int i = 0; i < 12; ++i) {
    const json t = ask(study).at("trials")[0];
    const double x = t.at("params").at("x");
    const double v = (x - 0.3) * (x - 0.3) - (i == 9 ? 1000.0 : 0.0);
    ASSERT_EQ(gpbo_study_tell(study, t.at("id").get<int64_t>(), v), GPBO_OK) << gpbo_last_error();
  }
  ask(study);
  char* out = nullptr;
  ASSERT_EQ(gpbo_study_outliers(study, &out), GPBO_OK) << gpbo_last_error();
  EXPECT_EQ(take_json(out), json({{"outliers", {9}}}));
  // The trial is kept as told.
  EXPECT_LT(json::parse(trials_text(study)).at("trials")[9].at("value").get<double>(), -990.0);
  EXPECT_STATUS(gpbo_study_outliers(study, nullptr), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_outliers(nullptr, &out), GPBO_ERR_INVALID_ARGUMENT);
  gpbo_study_close(study);
}

TEST_P(CApiStore, DriftReevaluatesAndFindsAShift) {
  gpbo_study* bad = nullptr;
  EXPECT_STATUS(gpbo_study_create(storage_, "bad", kSpace, "minimize",
                                  R"({"drift": {"mode": "sometimes"}})", &bad),
                GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_create(storage_, "bad", kSpace, "minimize",
                                  R"({"drift": {"reevaluate_every": -2}})", &bad),
                GPBO_ERR_INVALID_ARGUMENT);
  gpbo_study* study = create(
      "drift", R"({"seed": 5, "n_initial": 4, "drift": {"mode": "auto", "reevaluate_every": 4}})",
      "minimize");
  std::vector<int64_t> again;
  for (int i = 0; i < 24; ++i) {
    const json t = ask(study).at("trials")[0];
    const double x = t.at("params").at("x");
    const int64_t id = t.at("id").get<int64_t>();
    if (t.at("source") == "reevaluation") again.push_back(id);
    const double v = (x - 0.3) * (x - 0.3) + (id >= 12 ? 2.0 : 0.0);  // a step at trial 12
    ASSERT_EQ(gpbo_study_tell(study, id, v), GPBO_OK) << gpbo_last_error();
  }
  ask(study);  // judges the last re-evaluation
  EXPECT_EQ(again, std::vector<int64_t>({7, 11, 15, 19, 23}));
  char* out = nullptr;
  ASSERT_EQ(gpbo_study_drift(study, &out), GPBO_OK) << gpbo_last_error();
  const json d = take_json(out);
  EXPECT_EQ(d.at("mode"), "auto");
  EXPECT_EQ(d.at("reevaluations"), 5);
  ASSERT_FALSE(d.at("shifts").empty()) << d.dump();
  for (const json& s : d.at("shifts")) EXPECT_GE(s.get<int64_t>(), 12);
  ASSERT_EQ(gpbo_study_best(study, &out), GPBO_OK) << gpbo_last_error();
  EXPECT_EQ(take_json(out).at("drift"), d);
  EXPECT_STATUS(gpbo_study_drift(study, nullptr), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_study_drift(nullptr, &out), GPBO_ERR_INVALID_ARGUMENT);
  gpbo_study_close(study);
}

TEST(CApiErrors, BadStorageUrls) {
  gpbo_storage* storage = reinterpret_cast<gpbo_storage*>(0x1);
  EXPECT_STATUS(gpbo_storage_open("mysql://db", &storage), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(storage, nullptr);
  // A PostgreSQL URL whose server is not there (nothing listens on port 1).
  EXPECT_STATUS(gpbo_storage_open("postgresql://127.0.0.1:1/x", &storage), GPBO_ERR_STORAGE);
  EXPECT_EQ(storage, nullptr);
  EXPECT_STATUS(gpbo_storage_open("sqlite://", &storage), GPBO_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(gpbo_storage_open("sqlite:///nonexistent-dir-gpbo/x/y.db", &storage),
                GPBO_ERR_STORAGE);
  EXPECT_EQ(storage, nullptr);
}

TEST(CApiErrors, NotAGpboDatabaseIsAStorageError) {
  const std::string path = temp_db_path("garbage");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string junk(4096, 'J');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  gpbo_storage* storage = nullptr;
  EXPECT_STATUS(gpbo_storage_open(("sqlite://" + path).c_str(), &storage), GPBO_ERR_STORAGE);
  gpbo_storage_close(storage);
  remove_db(path);
}

TEST(CApiErrors, LastErrorIsThreadLocalAndClearedBySuccess) {
  gpbo_storage* storage = nullptr;
  ASSERT_EQ(gpbo_storage_open("memory://", &storage), GPBO_OK);
  gpbo_study* study = nullptr;
  ASSERT_EQ(gpbo_study_open(storage, "main-thread-study", &study), GPBO_ERR_NOT_FOUND);
  const std::string mine = gpbo_last_error();
  ASSERT_NE(mine.find("main-thread-study"), std::string::npos) << mine;

  std::string fresh;
  std::string theirs;
  std::thread worker([&] {
    fresh = gpbo_last_error();  // nothing called on this thread yet
    gpbo_study* s = nullptr;
    EXPECT_EQ(gpbo_study_create(storage, "t", "{broken", "minimize", nullptr, &s),
              GPBO_ERR_INVALID_ARGUMENT);
    theirs = gpbo_last_error();
  });
  worker.join();
  EXPECT_EQ(fresh, "");
  EXPECT_NE(theirs, "");
  EXPECT_NE(theirs, mine);
  EXPECT_NE(theirs.find("gpbo_study_create"), std::string::npos) << theirs;
  EXPECT_EQ(std::string(gpbo_last_error()), mine);  // untouched by the other thread

  // Threads failing concurrently each keep their own message.
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      const std::string name = "missing-" + std::to_string(i);
      for (int k = 0; k < 50; ++k) {
        gpbo_study* s = nullptr;
        if (gpbo_study_open(storage, name.c_str(), &s) != GPBO_ERR_NOT_FOUND ||
            std::string(gpbo_last_error()).find("'" + name + "'") == std::string::npos) {
          ++wrong;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);

  // A success clears this thread's message.
  ASSERT_EQ(gpbo_study_create(storage, "ok", kSpace, "minimize", nullptr, &study), GPBO_OK);
  EXPECT_STREQ(gpbo_last_error(), "");
  gpbo_study_close(study);
  gpbo_storage_close(storage);
}

TEST(CApiErrors, ConcurrentWorkersOnOneSqliteStudy) {
  const std::string path = temp_db_path("workers");
  const std::string url = "sqlite://" + path;
  gpbo_storage* storage = nullptr;
  ASSERT_EQ(gpbo_storage_open(url.c_str(), &storage), GPBO_OK) << gpbo_last_error();
  gpbo_study* study = nullptr;
  ASSERT_EQ(
      gpbo_study_create(storage, "shared", kSpace, "minimize", R"({"n_initial": 100})", &study),
      GPBO_OK)
      << gpbo_last_error();
  gpbo_study_close(study);
  gpbo_storage_close(storage);

  // Each worker opens its own store handle, as separate processes would.
  std::atomic<int> errors{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      gpbo_storage* st = nullptr;
      gpbo_study* s = nullptr;
      if (gpbo_storage_open(url.c_str(), &st) != GPBO_OK ||
          gpbo_study_open(st, "shared", &s) != GPBO_OK) {
        ++errors;
        gpbo_storage_close(st);
        return;
      }
      const std::string worker = "w" + std::to_string(w);
      for (int i = 0; i < 5; ++i) {
        char* text = nullptr;
        if (gpbo_study_ask(s, 1, worker.c_str(), &text) != GPBO_OK) {
          ++errors;
          continue;
        }
        const json got = take_json(text);
        for (const json& t : got.at("trials")) {
          if (gpbo_study_tell(s, t.at("id").get<std::int64_t>(), 1.0 + w) != GPBO_OK) ++errors;
        }
      }
      gpbo_study_close(s);
      gpbo_storage_close(st);
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(errors.load(), 0);

  ASSERT_EQ(gpbo_storage_open(url.c_str(), &storage), GPBO_OK);
  ASSERT_EQ(gpbo_study_open(storage, "shared", &study), GPBO_OK);
  char* text = nullptr;
  ASSERT_EQ(gpbo_study_trials(study, &text), GPBO_OK);
  const json all = take_json(text);
  ASSERT_EQ(all.at("trials").size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(all["trials"][i]["id"], static_cast<std::int64_t>(i));
    EXPECT_EQ(all["trials"][i]["state"], "complete");
  }
  gpbo_study_close(study);
  gpbo_storage_close(storage);
  remove_db(path);
}

}  // namespace
