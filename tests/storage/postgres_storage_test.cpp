/// What only the PostgreSQL store has: its schema and version table, refusal of newer schemas
/// and of foreign tables, quick and password-free errors for bad URLs and logins, snapshot reads,
/// row locks, lost connections, and distinct trial ids for writers in many threads, processes
/// and PersistentStudy handles. Each test runs in a fresh schema on the test server (see
/// postgres_test_server.hpp) and skips, with a message, when there is none.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/storage.hpp"
#include "storage/postgres_test_server.hpp"
#include "storage/sql_connection.hpp"
#include "storage/sql_storage.hpp"

namespace gpbo {
namespace {

using Clock = std::chrono::steady_clock;

Space test_space() {
  Space s;
  s.add_float("x", -5.0, 10.0).add_int("n", 0, 100).add_categorical("opt", {"adam", "sgd"});
  return s;
}

StudyInfo study_info(const std::string& name) {
  StudyInfo info;
  info.name = name;
  info.space_json = test_space().to_json();
  info.direction = Direction::kMinimize;
  return info;
}

/// Appends one trial with the next free number; returns that number.
std::int64_t append_trial(Storage& storage, const std::string& study, const std::string& worker) {
  std::int64_t id = -1;
  storage.write(study, [&](StudyTransaction& tx) {
    id = static_cast<std::int64_t>(tx.trials().size());
    Trial t;
    t.id = id;
    t.params = {{"x", 0.5}, {"n", std::int64_t{3}}, {"opt", std::string("adam")}};
    t.worker_id = worker;
    t.source = "initial";
    tx.insert_trial(t);
  });
  return id;
}

std::vector<Trial> read_trials(Storage& storage, const std::string& study) {
  std::vector<Trial> out;
  storage.read(study, [&](StudyTransaction& tx) { out = tx.trials(); });
  return out;
}

/// Runs `f`, expects a StorageError and returns its message.
template <typename F>
std::string storage_error_of(F&& f) {
  try {
    f();
  } catch (const StorageError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "nothing was thrown";
  return "";
}

/// A localhost TCP port that nothing listens on (bound, then released).
int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

/// A TCP proxy on 127.0.0.1 in front of the test server that can cut a connection at the next
/// COMMIT: either after passing it on (the server commits, the client never hears back) or
/// instead of passing it on (the server rolls back). Everything else is forwarded as is.
class CommitCuttingProxy {
 public:
  enum class Cut { kNone, kAfterCommit, kBeforeCommit };

  explicit CommitCuttingProxy(int server_port) : server_port_(server_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback(0);
    socklen_t len = sizeof addr;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("proxy: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~CommitCuttingProxy() {
    stop_ = true;
    thread_.join();
    for (const auto& [client, server] : pairs_) {
      close(client);
      close(server);
    }
    close(listen_fd_);
  }
  int port() const { return port_; }
  void cut_next_commit(Cut how) { cut_ = how; }
  /// How many connections were cut.
  int cuts() const { return cuts_; }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    return addr;
  }

  void run() {
    // The simple-query message that PQexec(conn, "COMMIT") sends: 'Q', length 11, "COMMIT\0".
    static const std::string kCommit(
        "Q\0\0\0\x0b"
        "COMMIT\0",
        12);
    while (!stop_) {
      std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}};
      for (const auto& [client, server] : pairs_) {
        fds.push_back({client, POLLIN, 0});
        fds.push_back({server, POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int client = accept(listen_fd_, nullptr, nullptr);
        const int server = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr = loopback(server_port_);
        if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
          pairs_.emplace_back(client, server);
        } else {
          close(client);
          close(server);
        }
        continue;  // the pair list changed: poll again
      }
      for (std::size_t i = 0; i < pairs_.size(); ++i) {
        const auto [client, server] = pairs_[i];
        bool closed = false;
        for (const bool upstream : {true, false}) {
          const pollfd& p = fds[1 + 2 * i + (upstream ? 0 : 1)];
          if (closed || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
          char buf[65536];
          const ssize_t n = read(p.fd, buf, sizeof buf);
          const std::string data(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
          const bool commit =
              upstream && cut_ != Cut::kNone && data.find(kCommit) != std::string::npos;
          if (n > 0 && !(commit && cut_ == Cut::kBeforeCommit)) {
            send(upstream ? server : client, data.data(), data.size(), MSG_NOSIGNAL);
          }
          if (n <= 0 || commit) {
            if (commit) {
              cut_ = Cut::kNone;
              ++cuts_;
            }
            close(client);
            close(server);
            closed = true;
          }
        }
        if (closed) {
          pairs_.erase(pairs_.begin() + static_cast<long>(i));
          break;  // indexes into fds changed
        }
      }
    }
  }

  int server_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::vector<std::pair<int, int>> pairs_;
  std::atomic<Cut> cut_{Cut::kNone};
  std::atomic<int> cuts_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// The port of a "postgresql://...@127.0.0.1:PORT/..." URL, or 0.
int loopback_port(const std::string& url) {
  static const std::string kHost = "@127.0.0.1:";
  const std::size_t at = url.find(kHost);
  if (at == std::string::npos) return 0;
  return std::atoi(url.c_str() + at + kHost.size());
}

class StoragePostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    const std::string url = test::postgres_url(&why);
    if (url.empty()) GTEST_SKIP() << why;
    schema_ = std::make_unique<test::PostgresSchema>(url);
  }
  std::unique_ptr<Storage> open() { return Storage::open(schema_->url()); }
  /// Ends every session of this test's storages (they carry the schema's application_name).
  int terminate_sessions() {
    return std::stoi(schema_->sql(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
        schema_->name() + "'"));
  }

  std::unique_ptr<test::PostgresSchema> schema_;
};

TEST_F(StoragePostgres, SchemaIsVersionOne) {
  open()->create_study(study_info("s"));
  EXPECT_EQ(schema_->sql("SELECT version FROM schema_version"),
            std::to_string(SqlStorage::kSchemaVersion));
  EXPECT_EQ(schema_->sql("SELECT COUNT(*) FROM schema_version"), "1");
  // The tables are in the test's schema, nowhere else.
  EXPECT_EQ(schema_->sql("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM "
                         "information_schema.tables WHERE table_schema = '" +
                         schema_->name() + "'"),
            "log,schema_version,studies,trials");
  append_trial(*open(), "s", "w");
  EXPECT_EQ(schema_->sql("SELECT state FROM trials"), "running");
  EXPECT_EQ(schema_->sql("SELECT direction FROM studies"), "minimize");
  EXPECT_EQ(schema_->sql("SELECT params_json FROM trials"), R"({"n":3,"opt":"adam","x":0.5})");
  // A second open finds the schema and leaves it as it is.
  open();
  EXPECT_EQ(schema_->sql("SELECT COUNT(*) FROM schema_version"), "1");
}

TEST_F(StoragePostgres, NewerSchemaVersionIsRefused) {
  open()->create_study(study_info("s"));
  schema_->sql("UPDATE schema_version SET version = 5");
  const std::string message = storage_error_of([&] { open(); });
  EXPECT_NE(message.find("database schema version 5 is newer than this gpbo supports (4)"),
            std::string::npos)
      << message;
  EXPECT_EQ(schema_->sql("SELECT version FROM schema_version"), "5");  // left alone
}

TEST_F(StoragePostgres, ForeignTablesAreRefusedUntouched) {
  schema_->sql("CREATE TABLE studies (who text)");
  const std::string message = storage_error_of([&] { open(); });
  EXPECT_NE(message.find("is not a gpbo schema"), std::string::npos) << message;
  EXPECT_NE(message.find(schema_->name()), std::string::npos) << message;
  EXPECT_EQ(schema_->sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '" +
                         schema_->name() + "'"),
            "1");
}

TEST_F(StoragePostgres, MissingSchemaIsReported) {
  const std::string url =
      test::with_param(schema_->admin_url(), "options", "-csearch_path%3Dno_such_schema_here");
  const std::string message = storage_error_of([&] { Storage::open(url); });
  EXPECT_NE(message.find("no schema"), std::string::npos) << message;
}

TEST_F(StoragePostgres, BadUrlsFailQuickly) {
  const std::string closed = "127.0.0.1:" + std::to_string(closed_port());
  const std::vector<std::string> urls = {
      "postgresql://" + closed + "/db",
      "postgres://" + closed + "/db",
      "postgresql://" + closed + "/db?no_such_parameter=1",
      "postgresql://[::1/db",  // malformed
      // A documentation-only address (RFC 5737), unreachable, with a short connect_timeout.
      "postgresql://192.0.2.1:5432/db?connect_timeout=2",
  };
  for (const std::string& url : urls) {
    const auto start = Clock::now();
    const std::string message = storage_error_of([&] { Storage::open(url); });
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(8)) << url;
    EXPECT_NE(message.find("PostgreSQL database '" + url + "'"), std::string::npos) << message;
  }
}

TEST_F(StoragePostgres, PasswordsNeverShowInMessages) {
  std::string why;
  const std::string good =
      test::postgres_setting("GPBO_TEST_POSTGRES_PASSWORD_URL", "password_url");
  if (good.empty())
    GTEST_SKIP() << "no password role on the test server (set "
                    "GPBO_TEST_POSTGRES_PASSWORD_URL)";
  // The right password works (the role keeps its tables in its own schema).
  const auto store = Storage::open(good);
  store->create_study(study_info("with-password-" + schema_->name()));
  store->delete_study("with-password-" + schema_->name());

  const std::string secret = "Not-The-Secret-7y2";
  const std::size_t colon = good.find(':', std::string("postgresql://").size());
  const std::size_t at = good.find('@');
  ASSERT_TRUE(colon != std::string::npos && at != std::string::npos && colon < at) << good;
  const std::string wrong = good.substr(0, colon + 1) + secret + good.substr(at);
  std::string message = storage_error_of([&] { Storage::open(wrong); });
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_EQ(message.find(secret), std::string::npos) << message;
  EXPECT_NE(message.find(":***@"), std::string::npos) << message;

  // As a query parameter, and in a URL that libpq cannot parse: masked all the same.
  const std::string closed = "127.0.0.1:" + std::to_string(closed_port());
  for (const std::string& url :
       {"postgresql://u@" + closed + "/db?password=" + secret + "&sslmode=disable",
        "postgresql://u:" + secret + "@" + closed + "/db?bogus=" + secret,
        "postgresql://u:" + secret + "%zz@" + closed + "/db"}) {
    message = storage_error_of([&] { Storage::open(url); });
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
    EXPECT_NE(message.find("***"), std::string::npos) << message;
  }
  EXPECT_EQ(masked_postgres_url("postgres://me:pw@h:1/d?password=x&user=me"),
            "postgres://me:***@h:1/d?password=***&user=me");
  EXPECT_EQ(masked_postgres_url("postgresql://h/d/x@y"), "postgresql://h/d/x@y");
}

TEST_F(StoragePostgres, ReadsSeeOneSnapshot) {
  const auto reader = open();
  const auto writer = open();
  reader->create_study(study_info("s"));
  append_trial(*writer, "s", "w0");
  reader->read("s", [&](StudyTransaction& tx) {
    ASSERT_EQ(tx.trials().size(), 1u);
    append_trial(*writer, "s", "w1");  // commits on another connection meanwhile
    EXPECT_EQ(tx.trials().size(), 1u);
  });
  EXPECT_EQ(read_trials(*reader, "s").size(), 2u);
}

TEST_F(StoragePostgres, WriteWaitsForTheStudyRowLock) {
  const auto s = open();
  s->create_study(study_info("s"));
  // Another session holds the study row's lock for a while; write() must wait, not fail.
  std::atomic<bool> locked{false};
  std::thread holder([&] {
    test::postgres_sql(schema_->url(),
                       "BEGIN; SELECT id FROM studies WHERE name = 's' FOR UPDATE; "
                       "SELECT pg_sleep(0.4); COMMIT");
    locked = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // let the holder lock first
  const auto start = Clock::now();
  EXPECT_NO_THROW(append_trial(*s, "s", "w"));
  const auto waited = Clock::now() - start;
  holder.join();
  EXPECT_TRUE(locked.load());
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_EQ(read_trials(*s, "s").size(), 1u);
}

TEST_F(StoragePostgres, LostConnectionIsReopenedAndTheTransactionRetried) {
  const auto s = open();
  s->create_study(study_info("s"));
  append_trial(*s, "s", "w0");
  // Between calls: the next call reconnects.
  ASSERT_EQ(terminate_sessions(), 1);
  EXPECT_EQ(read_trials(*s, "s").size(), 1u);
  append_trial(*s, "s", "w1");

  // Inside a write: the statement after the loss fails, the whole transaction runs again on a
  // new connection, and commits once.
  int calls = 0;
  s->write("s", [&](StudyTransaction& tx) {
    ++calls;
    if (calls == 1) terminate_sessions();
    Trial t;
    t.id = static_cast<std::int64_t>(tx.trials().size());
    t.params = {{"x", 1.0}, {"n", std::int64_t{1}}, {"opt", std::string("sgd")}};
    t.worker_id = "w2";
    tx.insert_trial(t);
  });
  EXPECT_EQ(calls, 2);
  const std::vector<Trial> trials = read_trials(*s, "s");
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[2].worker_id, "w2");
}

TEST_F(StoragePostgres, ACommitWhoseAnswerWasLostIsLookedUpNotRepeated) {
  const int port = loopback_port(schema_->url());
  if (port == 0) GTEST_SKIP() << "the test server's URL is not postgresql://...@127.0.0.1:PORT/...";
  CommitCuttingProxy proxy(port);
  std::string url = schema_->url();
  url.replace(url.find("@127.0.0.1:") + 11, std::to_string(port).size(),
              std::to_string(proxy.port()));
  const auto s = Storage::open(test::with_param(url, "sslmode", "disable"));
  s->create_study(study_info("s"));

  const auto insert_one = [&](CommitCuttingProxy::Cut cut, int* calls) {
    s->write("s", [&](StudyTransaction& tx) {
      ++*calls;
      proxy.cut_next_commit(*calls == 1 ? cut : CommitCuttingProxy::Cut::kNone);
      Trial t;
      t.id = static_cast<std::int64_t>(tx.trials().size());
      t.params = {{"x", 1.0}, {"n", std::int64_t{1}}, {"opt", std::string("sgd")}};
      t.worker_id = "w" + std::to_string(t.id);
      tx.insert_trial(t);
    });
  };
  // The server got the COMMIT and committed; only the answer was lost. The call must find out
  // and return, not run the transaction again (which would insert a second trial).
  int calls = 0;
  EXPECT_NO_THROW(insert_one(CommitCuttingProxy::Cut::kAfterCommit, &calls));
  EXPECT_EQ(proxy.cuts(), 1);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(read_trials(*s, "s").size(), 1u);
  // The COMMIT never arrived: the server rolled back, so the call runs the transaction again.
  calls = 0;
  EXPECT_NO_THROW(insert_one(CommitCuttingProxy::Cut::kBeforeCommit, &calls));
  EXPECT_EQ(proxy.cuts(), 2);
  EXPECT_EQ(calls, 2);
  const std::vector<Trial> trials = read_trials(*s, "s");
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[1].worker_id, "w1");
}

TEST_F(StoragePostgres, ThreadsSharingOneStorageGetDistinctIds) {
  constexpr int kThreads = 8;
  constexpr int kWrites = 25;
  const auto s = open();
  s->create_study(study_info("s"));
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kWrites; ++i) append_trial(*s, "s", "t" + std::to_string(t));
      } catch (const std::exception& e) {
        ++errors;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  const std::vector<Trial> trials = read_trials(*s, "s");
  ASSERT_EQ(trials.size(), static_cast<std::size_t>(kThreads * kWrites));
  std::map<std::string, int> per_worker;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].id, static_cast<std::int64_t>(i));
    ++per_worker[trials[i].worker_id];
  }
  for (const auto& [worker, count] : per_worker) EXPECT_EQ(count, kWrites) << worker;
}

TEST_F(StoragePostgres, ProcessesGetDistinctIds) {
  constexpr int kProcesses = 6;
  constexpr int kWrites = 20;
  open()->create_study(study_info("s"));
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // the child: its own connection; exit status 0 when all writes landed
      int code = 0;
      try {
        const auto s = Storage::open(schema_->url());
        for (int i = 0; i < kWrites; ++i) append_trial(*s, "s", "p" + std::to_string(p));
      } catch (...) {
        code = 1;
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid;
  }
  const std::vector<Trial> trials = read_trials(*open(), "s");
  ASSERT_EQ(trials.size(), static_cast<std::size_t>(kProcesses * kWrites));
  std::map<std::string, int> per_worker;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].id, static_cast<std::int64_t>(i));
    ++per_worker[trials[i].worker_id];
  }
  EXPECT_EQ(per_worker.size(), static_cast<std::size_t>(kProcesses));
  for (const auto& [worker, count] : per_worker) EXPECT_EQ(count, kWrites) << worker;
}

TEST_F(StoragePostgres, PersistentStudiesOnTwoConnectionsNeverDuplicateATrial) {
  // Two "servers": two connections, each driving the study from two threads.
  StudyOptions options;
  options.seed = 3;
  options.n_initial = 6;
  std::shared_ptr<Storage> first = open();
  std::shared_ptr<Storage> second = open();
  PersistentStudy::create(first, "s", test_space(), options);
  constexpr int kThreadsPerStorage = 2;
  constexpr int kAsks = 5;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerStorage; ++t) {
    threads.emplace_back([&, t] {
      try {
        PersistentStudy study(t % 2 == 0 ? first : second, "s");
        for (int i = 0; i < kAsks; ++i) {
          const std::vector<Trial> got = study.ask(1, "w" + std::to_string(t));
          ASSERT_EQ(got.size(), 1u);
          const double x = std::get<double>(got[0].params.at("x"));
          study.tell(got[0].id, (x - 1.0) * (x - 1.0));
        }
      } catch (const std::exception& e) {
        ++errors;
        ADD_FAILURE() << "thread " << t << ": " << e.what();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  const std::vector<Trial> trials = PersistentStudy(first, "s").trials();
  ASSERT_EQ(trials.size(), static_cast<std::size_t>(2 * kThreadsPerStorage * kAsks));
  std::set<std::string> points;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].id, static_cast<std::int64_t>(i));
    EXPECT_EQ(trials[i].state, TrialState::kComplete) << "trial " << i;
    points.insert(to_string(trials[i].params.at("x")) + "/" + to_string(trials[i].params.at("n")) +
                  "/" + to_string(trials[i].params.at("opt")));
  }
  EXPECT_EQ(points.size(), trials.size()) << "two trials got the same point";
}

}  // namespace
}  // namespace gpbo
