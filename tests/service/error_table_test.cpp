// Every error type through the three front doors that report errors: the CLI (exit code and
// one stderr line), `gpbo serve` (HTTP status and {"error": {"code", "message"}}, read back by
// the remote service as the same type) and the C API (gpbo_status and gpbo_last_error), all by
// the one table of service/error_table.hpp.
#include "service/error_table.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "capi/guard.hpp"
#include "cli/commands.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gpbo.h"
#include "server/server.hpp"
#include "service/remote_study_service.hpp"
#include "service/study_service.hpp"

// After Eigen (through the gpbo headers): httplib.h defines macros that break its templates.
#include <httplib.h>

namespace gpbo {
namespace {

using nlohmann::json;

/// What each front door must say for each kind (the documented contract: README, gpbo.h,
/// docs/openapi.yaml).
struct Expected {
  ErrorKind kind;
  int exit_code;
  const char* cli_label;
  int http_status;
  const char* http_code;
  int c_status;
};

constexpr Expected kExpected[] = {
    {ErrorKind::kInvalidArgument, 2, "error", 400, "invalid_argument", GPBO_ERR_INVALID_ARGUMENT},
    {ErrorKind::kNotFound, 3, "not found", 404, "not_found", GPBO_ERR_NOT_FOUND},
    {ErrorKind::kConflict, 3, "conflict", 409, "conflict", GPBO_ERR_CONFLICT},
    {ErrorKind::kNumerical, 6, "numerical error", 500, "numerical_error", GPBO_ERR_NUMERICAL},
    {ErrorKind::kBackendUnavailable, 2, "device unavailable", 503, "backend_unavailable",
     GPBO_ERR_BACKEND_UNAVAILABLE},
    {ErrorKind::kStorage, 5, "storage error", 503, "storage_error", GPBO_ERR_STORAGE},
    {ErrorKind::kInternal, 4, "internal error", 500, "internal", GPBO_ERR_INTERNAL},
};

TEST(ErrorTable, EveryKindHasItsRow) {
  ASSERT_EQ(std::size(kExpected), std::size(kAllErrorKinds));
  for (const Expected& e : kExpected) {
    const service::ErrorMapping& m = service::error_mapping(e.kind);
    EXPECT_EQ(m.kind, e.kind);
    EXPECT_EQ(m.exit_code, e.exit_code) << e.http_code;
    EXPECT_STREQ(m.cli_label, e.cli_label);
    EXPECT_EQ(m.http_status, e.http_status) << e.http_code;
    EXPECT_EQ(to_string(e.kind), e.http_code);
    EXPECT_EQ(parse_error_kind(e.http_code), e.kind);
    EXPECT_EQ(m.c_status, e.c_status) << e.http_code;
  }
}

TEST(ErrorTable, ExceptionsMapToTheirKind) {
  for (const Expected& e : kExpected) {
    try {
      throw_error(e.kind, "boom");
    } catch (const Error& x) {
      EXPECT_EQ(error_kind(x), e.kind) << e.http_code;
      EXPECT_STREQ(x.what(), "boom");
    }
  }
  EXPECT_EQ(error_kind(std::runtime_error("x")), ErrorKind::kInternal);
  EXPECT_EQ(error_kind(std::bad_alloc()), ErrorKind::kInternal);
}

TEST(ErrorTable, TheCliReportsOneLineAndTheExitCode) {
  for (const Expected& e : kExpected) {
    std::ostringstream err;
    std::streambuf* old = std::cerr.rdbuf(err.rdbuf());
    int rc = -1;
    try {
      throw_error(e.kind, "what went wrong");
    } catch (const std::exception& x) {
      rc = cli::report_error(x);
    }
    std::cerr.rdbuf(old);
    EXPECT_EQ(rc, e.exit_code) << e.http_code;
    EXPECT_EQ(err.str(), std::string("gpbo: ") + e.cli_label + ": what went wrong\n");
  }
}

TEST(ErrorTable, TheCApiReturnsTheStatusAndTheMessage) {
  for (const Expected& e : kExpected) {
    const int status = capi::guard("gpbo_test", [&] { throw_error(e.kind, "what went wrong"); });
    EXPECT_EQ(status, e.c_status) << e.http_code;
    EXPECT_STREQ(gpbo_last_error(), "gpbo_test: what went wrong");
  }
  EXPECT_EQ(capi::guard("gpbo_test", [] {}), GPBO_OK);
  EXPECT_STREQ(gpbo_last_error(), "");
}

/// A study service whose every call throws an error of one kind.
class ThrowingService final : public service::StudyService {
 public:
  ErrorKind kind = ErrorKind::kInternal;
  [[noreturn]] void fail() const { throw_error(kind, "what went wrong"); }
  StudyInfo create_study(const std::string&, const Space&, const StudyOptions&,
                         const PersistenceOptions&) override {
    fail();
  }
  std::vector<StudyInfo> list_studies() override { fail(); }
  StudyInfo get_study(const std::string&) override { fail(); }
  void delete_study(const std::string&) override { fail(); }
  std::vector<Trial> ask(const std::string&, int, const std::string&,
                         const nlohmann::json&) override {
    fail();
  }
  Trial tell(const std::string&, std::int64_t, double, bool) override { fail(); }
  Trial tell_values(const std::string&, std::int64_t, const MetricValues&, bool) override {
    fail();
  }
  Trial tell_state(const std::string&, std::int64_t, TrialState, bool) override { fail(); }
  Trial heartbeat(const std::string&, std::int64_t) override { fail(); }
  PruneAnswer report_value(const std::string&, std::int64_t, std::int64_t, double) override {
    fail();
  }
  bool should_prune(const std::string&, std::int64_t) override { fail(); }
  StudyCost cost(const std::string&) override { fail(); }
  void enqueue(const std::string&, const json&) override { fail(); }
  std::vector<Trial> add_trials(const std::string&, const std::vector<Trial>&) override { fail(); }
  std::optional<Trial> best(const std::string&) override { fail(); }
  ParetoFront pareto(const std::string&) override { fail(); }
  std::vector<std::int64_t> outliers(const std::string&) override { fail(); }
  nlohmann::json drift(const std::string&) override { fail(); }
  std::vector<Trial> trials(const std::string&) override { fail(); }
  Trial trial(const std::string&, std::int64_t) override { fail(); }
  std::vector<LogEntry> log(const std::string&) override { fail(); }
  std::string report(const std::string&) override { fail(); }
  VerifyReport verify(const std::string&) override { fail(); }
};

TEST(ErrorTable, TheServerAnswersTheStatusAndTheClientRaisesTheSameKind) {
  auto failing = std::make_shared<ThrowingService>();
  server::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  server::HttpServer http(failing, o);
  const int port = http.bind();
  std::thread thread([&] { http.run(); });
  http.wait_until_running();
  httplib::Client raw("127.0.0.1", port);
  service::RemoteStudyService client("http://127.0.0.1:" + std::to_string(port), "");
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.http_code);
    failing->kind = e.kind;
    const httplib::Result r = raw.Get("/v1/studies/s/trials");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, e.http_status);
    const json body = json::parse(r->body);
    EXPECT_EQ(body.at("error").at("code"), e.http_code);
    EXPECT_EQ(body.at("error").at("message"), "what went wrong");
    try {
      client.trials("s");
      ADD_FAILURE() << "no error";
    } catch (const Error& x) {
      EXPECT_EQ(error_kind(x), e.kind);
      EXPECT_NE(std::string(x.what()).find("what went wrong"), std::string::npos) << x.what();
    }
  }
  http.stop();
  thread.join();
}

}  // namespace
}  // namespace gpbo
