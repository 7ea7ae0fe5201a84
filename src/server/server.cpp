#include "server/server.hpp"

#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <thread>

#include "codec/metrics_json.hpp"
#include "codec/trial_json.hpp"
#include "common/json_text.hpp"
#include "gpbo/error.hpp"
#include "gpbo/storage.hpp"
#include "server/auth.hpp"
#include "server/waiting_room.hpp"
#include "service/error_table.hpp"
#include "service/study_json.hpp"

#ifndef GPBO_VERSION
#define GPBO_VERSION "unknown"
#endif

namespace gpbo::server {
namespace {

using nlohmann::json;

/// Deeper JSON than this is refused before it is used (nested data has no place in any request,
/// and printing very deep documents recurses).
constexpr int kMaxJsonDepth = 32;

/// A finished response: status and JSON body (or, for the report, an HTML page).
struct Reply {
  Reply() = default;
  Reply(int s, json b) : status(s), body(std::move(b)) {}
  int status = 200;
  json body;
  std::string html;
};

/// Unauthorized requests (401); a type of its own so that it maps to its code.
class Unauthorized : public Error {
 public:
  using Error::Error;
};

/// A token whose role does not cover the endpoint (403).
class Forbidden : public Error {
 public:
  using Error::Error;
};

using service::Role;

/// Who sent a request: the token's name and role ("" and admin on a server without tokens).
struct Caller {
  std::string name;
  Role role = Role::kAdmin;
};

using service::study_from_json;
using service::study_to_json;

/// Bodies are JSON text; path segments are raw bytes and may not be UTF-8, so they are replaced
/// rather than thrown on when echoed in a message.
std::string dump(const json& j) { return json_text(j); }

json error_body(const std::string& code, const std::string& message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

std::string code_for_status(int status) {
  switch (status) {
    case 400:
      return "invalid_argument";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 429:
      return "too_many_requests";
    case 503:
      return "storage_error";
    default:
      return status >= 500 ? "internal" : "bad_request";
  }
}

/// The request body as a JSON object; an empty body is {} where `empty_ok`.
json parse_body(const httplib::Request& req, bool empty_ok) {
  if (req.body.empty()) {
    if (empty_ok) return json::object();
    throw InvalidArgument("the request needs a JSON object body");
  }
  json j;
  try {
    j = json::parse(req.body, [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxJsonDepth) throw InvalidArgument("the JSON body is nested too deeply");
      return true;
    });
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed JSON body: ") + e.what());
  }
  if (!j.is_object()) throw InvalidArgument("the request body must be a JSON object");
  return j;
}

/// Typed access to the fields of a request object; unknown fields are refused up front.
class Fields {
 public:
  Fields(const json& body, std::initializer_list<const char*> allowed) : body_(body) {
    for (const auto& [key, v] : body.items()) {
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) throw InvalidArgument("unknown field '" + key + "'");
    }
  }
  bool has(const char* key) const { return body_.contains(key); }
  const json& at(const char* key) const {
    if (!has(key)) throw InvalidArgument(std::string("missing field '") + key + "'");
    return body_.at(key);
  }
  std::string string(const char* key, const std::string& fallback, bool required = false) const {
    if (!has(key)) {
      if (required) at(key);
      return fallback;
    }
    const json& v = body_.at(key);
    if (!v.is_string()) throw InvalidArgument(std::string("field '") + key + "' must be a string");
    return v.get<std::string>();
  }
  std::int64_t integer(const char* key, std::int64_t fallback) const {
    if (!has(key)) return fallback;
    const json& v = body_.at(key);
    if (!v.is_number_integer()) {
      throw InvalidArgument(std::string("field '") + key + "' must be an integer");
    }
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      throw InvalidArgument(std::string("field '") + key + "' is out of range");
    }
    return v.get<std::int64_t>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = body_.at(key);
    if (!v.is_boolean())
      throw InvalidArgument(std::string("field '") + key + "' must be a boolean");
    return v.get<bool>();
  }
  const json& object(const char* key) const {
    const json& v = at(key);
    if (!v.is_object()) throw InvalidArgument(std::string("field '") + key + "' must be an object");
    return v;
  }

 private:
  const json& body_;
};

/// A trial id from the path: digits only (the route guarantees them); too large is NotFound.
std::int64_t trial_id(const std::string& text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw NotFound("no trial " + text);
  }
  return id;
}

/// cpp-httplib 0.11 listens with a backlog of 5: a burst of connections (64 workers starting
/// at once) overflows it and some clients then hang or are reset. Listening again on the bound
/// socket sets a larger backlog (Linux caps it at net.core.somaxconn).
template <class Base>
class WideBacklog : public Base {
 public:
  using Base::Base;
  bool widen_backlog(int backlog) {
    const socket_t sock = this->svr_sock_;
    return sock != INVALID_SOCKET && ::listen(sock, backlog) == 0;
  }
};

/// Set on the thread that answers connections the queue had no room for: every request there
/// gets 429 at once.
thread_local bool t_overflow = false;

/// Set while a request is handled when its connection must close after the reply.
thread_local bool t_close_after = false;
/// Whether the request being answered reached the pre-routing handler (httplib parsed it);
/// reset after each reply.
thread_local bool t_routed = false;

/// cpp-httplib's thread pool with a bounded queue: at most `limit` accepted connections wait
/// for one of `threads` threads; the others go to one more thread that only answers 429 (a
/// connection has to be read before it can be answered, and httplib hands over the connection
/// only as a task).
class BoundedPool : public httplib::TaskQueue {
 public:
  BoundedPool(int threads, int limit) : limit_(static_cast<std::size_t>(limit)) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work(queue_, false); });
    workers_.emplace_back([this] { work(overflow_, true); });
  }
  ~BoundedPool() override = default;

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (queue_.size() < limit_) {
        queue_.push_back(std::move(fn));
      } else {
        overflow_.push_back(std::move(fn));
      }
    }
    cond_.notify_all();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutdown_ = true;
    }
    cond_.notify_all();
    for (std::thread& t : workers_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void work(std::deque<std::function<void()>>& queue, bool overflow) {
    t_overflow = overflow;
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cond_.wait(lock, [&] { return shutdown_ || !queue.empty(); });
        if (shutdown_ && queue.empty()) return;
        fn = std::move(queue.front());
        queue.pop_front();
      }
      fn();
    }
  }

  const std::size_t limit_;
  std::mutex mutex_;
  std::condition_variable cond_;
  std::deque<std::function<void()>> queue_;
  std::deque<std::function<void()>> overflow_;
  bool shutdown_ = false;
  std::vector<std::thread> workers_;
};

/// Runs each task at once on the thread that enqueues it: cpp-httplib's listen loop, whose
/// task for a new connection only hands it to the waiting room.
class InlineQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

/// cpp-httplib's request processing over a Connection: first the bytes the waiting room read,
/// then the socket. Every read and write waits at most its timeout, and never past the
/// request's deadline (a slow body or a slow reader cannot hold a thread for long).
class ConnectionStream : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;
  ConnectionStream(Connection& c, std::chrono::milliseconds read_timeout,
                   std::chrono::milliseconds write_timeout)
      : c_(c), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  void start_request(Clock::time_point deadline) { deadline_ = deadline; }
  /// The bytes read but not consumed (the start of the next request).
  std::string take_leftover() {
    std::string rest = c_.buffer.substr(pos_);
    c_.buffer.clear();
    pos_ = 0;
    return rest;
  }

  bool is_readable() const override {
    return pos_ < c_.buffer.size() || wait(POLLIN, read_timeout_);
  }
  bool is_writable() const override { return wait(POLLOUT, write_timeout_); }
  ssize_t read(char* ptr, size_t size) override {
    if (pos_ >= c_.buffer.size()) {
      if (!wait(POLLIN, read_timeout_)) return -1;
      char chunk[4096];
      const ssize_t n = ::recv(c_.fd, chunk, sizeof chunk, 0);
      if (n <= 0) return n < 0 ? -1 : 0;
      c_.buffer.assign(chunk, static_cast<std::size_t>(n));
      pos_ = 0;
    }
    const std::size_t n = std::min(size, c_.buffer.size() - pos_);
    std::memcpy(ptr, c_.buffer.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!wait(POLLOUT, write_timeout_)) return -1;
    return ::send(c_.fd, ptr, size, MSG_NOSIGNAL);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(c_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      name_of(addr, len, ip, port);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(c_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      name_of(addr, len, ip, port);
    }
  }
  socket_t socket() const override { return c_.fd; }

 private:
  static void name_of(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
    char host[NI_MAXHOST];
    char serv[NI_MAXSERV];
    if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, serv,
                      sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
      ip = host;
      port = std::atoi(serv);
    }
  }
  bool wait(short events, std::chrono::milliseconds timeout) const {
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
      const long ms = std::min<long>(timeout.count(), left.count());
      if (ms <= 0) return false;
      pollfd p{c_.fd, events, 0};
      const int n = ::poll(&p, 1, static_cast<int>(ms));
      if (n < 0 && errno == EINTR) continue;
      return n > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
    }
  }

  Connection& c_;
  std::size_t pos_ = 0;
  const std::chrono::milliseconds read_timeout_;
  const std::chrono::milliseconds write_timeout_;
  Clock::time_point deadline_ = Clock::now();
};

/// The plain-HTTP server: cpp-httplib accepts, the waiting room holds each connection until its
/// request head is complete, and then a server thread serves it through ConnectionStream (see
/// waiting_room.hpp; under TLS httplib serves each connection itself).
class GatedServer : public WideBacklog<httplib::Server> {
 public:
  /// Receives each accepted socket (on the listen thread).
  std::function<void(int)> on_accept;

  /// Serves the requests of `c` while whole heads are at hand; returns `c` to wait for its next
  /// request, or with fd -1 when it was closed.
  Connection serve(Connection c, std::chrono::seconds request_timeout, bool close_after) {
    ConnectionStream strm(c, std::chrono::seconds(read_timeout_sec_),
                          std::chrono::seconds(write_timeout_sec_));
    for (;;) {
      strm.start_request(std::chrono::steady_clock::now() + request_timeout);
      ++c.served;
      t_close_after = false;
      const bool close =
          close_after || !is_running() || c.served >= static_cast<int>(keep_alive_max_count_);
      bool closed = false;
      const bool ok = process_request(strm, close, closed, nullptr);
      if (!ok || close || closed || t_close_after) {
        ::shutdown(c.fd, SHUT_RDWR);
        ::close(c.fd);
        c.fd = -1;
        return c;
      }
      c.buffer = strm.take_leftover();
      if (!has_complete_head(c.buffer)) return c;
    }
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    on_accept(sock);
    return true;
  }
};

/// Token buckets, one per token name: `rate` requests a second, bursts up to `burst`.
class RateLimiter {
 public:
  RateLimiter(double rate, int burst) : rate_(rate), burst_(burst > 0 ? burst : 1) {}
  /// 0 when the request may go ahead (a token is taken), else the seconds to wait (>= 1).
  int take(const std::string& name) {
    if (rate_ <= 0) return 0;
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = buckets_.try_emplace(name, Bucket{double(burst_), now});
    Bucket& b = it->second;
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min<double>(burst_, b.tokens + elapsed * rate_);
    b.last = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return static_cast<int>(std::ceil((1 - b.tokens) / rate_));
  }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  const double rate_;
  const int burst_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

/// The value of the request's one Authorization header as it was decoded, NUL bytes and all
/// (Request::get_header_value returns it cut at the first NUL); "" when absent or repeated.
std::string authorization(const httplib::Request& req) {
  if (req.get_header_value_count("Authorization") != 1) return "";
  return req.headers.find("Authorization")->second;
}

constexpr int kListenBacklog = 1024;
/// How long an idle keep-alive connection may wait for its next request, and how many
/// connections may wait at all (each one file descriptor, no thread).
constexpr int kIdleSeconds = 5;
constexpr std::size_t kMaxWaitingConnections = 4096;

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<service::StudyService> api;
  ServerOptions options;
  std::unique_ptr<httplib::Server> http;
  std::function<bool(int)> widen_backlog;
  // Plain HTTP only (see GatedServer); declared after `http` so that they go first.
  GatedServer* gated = nullptr;
  std::unique_ptr<BoundedPool> workers;
  std::unique_ptr<WaitingRoom> room;
  std::unique_ptr<RateLimiter> limiter;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> bound{false};
  std::atomic<bool> run_started{false};
  std::atomic<bool> run_returned{false};

  using Route = std::function<Reply(const httplib::Request&, const Caller&)>;

  /// The caller of a request: its token's entry; Unauthorized when the server has tokens and
  /// the request carries none of them.
  Caller authenticate(const httplib::Request& req) const {
    if (options.tokens.empty()) return {};
    const service::TokenEntry* e = find_token(options.tokens, bearer_token(authorization(req)));
    if (e == nullptr) {
      throw Unauthorized(req.has_header("Authorization")
                             ? "wrong bearer token"
                             : "this server needs 'Authorization: Bearer <token>'");
    }
    return {e->name, e->role};
  }

  /// A route that needs no token (/v1/health).
  httplib::Server::Handler public_handler(Route route) {
    return handler(Role::kRead, std::move(route), false);
  }

  /// Wraps a route: checks the token and its role, runs the route with the token's name as
  /// the writer of what it logs, and turns its errors into JSON replies.
  httplib::Server::Handler handler(Role needs, Route route, bool needs_token = true) {
    return [this, route = std::move(route), needs, needs_token](const httplib::Request& req,
                                                                httplib::Response& res) {
      Reply reply;
      try {
        const Caller caller = needs_token ? authenticate(req) : Caller{};
        if (static_cast<int>(caller.role) < static_cast<int>(needs)) {
          throw Forbidden("the token '" + caller.name + "' has the role " + to_string(caller.role) +
                          "; " + req.method + " " + req.path + " needs " + to_string(needs) +
                          (needs == Role::kAdmin ? "" : " or admin"));
        }
        const WriterScope writer(caller.name);
        reply = route(req, caller);
      } catch (const Unauthorized& e) {
        reply = {401, error_body("unauthorized", e.what())};
        res.set_header("WWW-Authenticate", "Bearer");
      } catch (const Forbidden& e) {
        reply = {403, error_body("forbidden", e.what())};
      } catch (const std::exception& e) {
        const service::ErrorMapping& m = service::error_mapping(e);
        reply = {m.http_status, error_body(to_string(m.kind), e.what())};
      }
      if (reply.status >= 500) {
        std::fprintf(stderr, "gpbo serve: %d %s %s: %s\n", reply.status, req.method.c_str(),
                     req.path.c_str(), dump(reply.body).c_str());
      }
      res.status = reply.status;
      if (!reply.html.empty()) {
        res.set_content(reply.html, "text/html; charset=utf-8");
      } else {
        res.set_content(dump(reply.body), "application/json");
      }
    };
  }

  /// A worker token may tell or heartbeat only a trial that no other worker id holds: the
  /// request's worker_id must be the trial's, when the trial has one. Admins may do any.
  void check_holder(const Caller& caller, const std::string& study, std::int64_t id,
                    const std::string& worker_id) {
    if (caller.role == Role::kAdmin) return;
    const Trial t = api->trial(study, id);
    if (!t.worker_id.empty() && t.worker_id != worker_id) {
      throw Forbidden("trial " + std::to_string(id) + " is held by another worker id; a " +
                      to_string(caller.role) +
                      " token must send the trial's worker_id (or use an admin token)");
    }
  }

  /// The checks before a request's body is read (see add_routes).
  httplib::Server::HandlerResponse pre_route(const httplib::Request& req, httplib::Response& res) {
    const auto too_many = [&](int seconds, const std::string& message) {
      res.status = 429;
      res.set_header("Retry-After", std::to_string(seconds));
      res.set_content(dump(error_body("too_many_requests", message)), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    };
    if (t_overflow) {
      res.set_header("Connection", "close");
      return too_many(1, "the server is busy (its request queue is full); retry later");
    }
    std::string encoding = req.get_header_value("Content-Encoding");
    for (char& c : encoding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!encoding.empty() && encoding != "identity") {
      res.status = 415;
      res.set_content(dump(error_body("invalid_argument",
                                      "encoded request bodies are not accepted (Content-"
                                      "Encoding: " +
                                          req.get_header_value("Content-Encoding") +
                                          "); send the JSON as it is")),
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    // A POST or PUT without Content-Length or chunked encoding: cpp-httplib would read its
    // body until the connection's read timeout (10 s). An empty body is Content-Length: 0.
    if ((req.method == "POST" || req.method == "PUT") && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      res.status = 411;
      res.set_content(dump(error_body("invalid_argument",
                                      "a request body needs Content-Length (0 for an empty "
                                      "body) or chunked Transfer-Encoding")),
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.path == "/v1/health") return httplib::Server::HandlerResponse::Unhandled;
    Caller caller;
    try {
      caller = authenticate(req);
    } catch (const Unauthorized& e) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content(dump(error_body("unauthorized", e.what())), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (const int wait = limiter->take(caller.name); wait > 0) {
      return too_many(wait, "the token '" + caller.name + "' is over its rate limit (" +
                                std::to_string(options.rate_per_second) + " requests/s)");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  void add_routes() {
    const std::string study = "/v1/studies/([^/]+)";
    const std::string trial = study + "/trials/([0-9]+)";

    http->Get("/v1/health", public_handler([](const httplib::Request&, const Caller&) {
                return Reply{200, {{"status", "ok"}, {"version", GPBO_VERSION}}};
              }));

    http->Get("/v1/studies", handler(Role::kRead, [this](const httplib::Request&, const Caller&) {
                json arr = json::array();
                for (const StudyInfo& s : api->list_studies()) arr.push_back(study_to_json(s));
                return Reply{200, {{"studies", arr}}};
              }));

    http->Post(
        "/v1/studies", handler(Role::kAdmin, [this](const httplib::Request& req, const Caller&) {
          const json body = parse_body(req, false);
          const Fields f(body, {"name", "space", "direction", "options", "warm_start"});
          const std::string name = f.string("name", "", true);
          if (name.empty() || name.size() > 200 || name.find('/') != std::string::npos) {
            throw InvalidArgument("the study name must have 1 to 200 characters and no '/'");
          }
          const Space space = Space::from_json(f.object("space").dump());
          StudyOptions options;
          PersistenceOptions persistence;
          if (f.has("options")) {
            const json& given = f.object("options");
            study_options_from_json(given.dump(), &options, &persistence);
            // The direction may come in either place, but not twice with different values.
            if (f.has("direction") && given.contains("direction") &&
                parse_direction(f.string("direction", "")) != options.direction) {
              throw InvalidArgument("the direction is given twice, with different values");
            }
          }
          if (f.has("direction"))
            set_direction(&options, parse_direction(f.string("direction", "")));
          if (f.has("warm_start")) {
            // Names are studies of this server's store; objects are sources sent inline.
            return Reply{201, study_to_json(api->create_warm_started_study(
                                  name, space, options, persistence,
                                  service::warm_start_request_from_json(body.at("warm_start"))))};
          }
          return Reply{201, study_to_json(api->create_study(name, space, options, persistence))};
        }));

    http->Get(study, handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
                return Reply{200, study_to_json(api->get_study(req.matches[1]))};
              }));

    http->Delete(study, handler(Role::kAdmin, [this](const httplib::Request& req, const Caller&) {
                   const std::string name = req.matches[1];
                   api->delete_study(name);
                   return Reply{200, {{"deleted", name}}};
                 }));

    http->Post(
        study + "/ask", handler(Role::kWorker, [this](const httplib::Request& req, const Caller&) {
          const json body = parse_body(req, true);
          const Fields f(body, {"q", "worker_id", "fixed"});
          const std::int64_t q = f.integer("q", 1);
          if (q < 1 || q > options.max_batch) {
            throw InvalidArgument("q must be in 1.." + std::to_string(options.max_batch) +
                                  ", got " + std::to_string(q));
          }
          const std::string worker = f.string("worker_id", "");
          if (worker.size() > kMaxWorkerIdLength) {
            throw InvalidArgument("worker_id is longer than " + std::to_string(kMaxWorkerIdLength) +
                                  " bytes");
          }
          const json fixed = f.has("fixed") ? f.at("fixed") : json::object();
          return Reply{
              200, trials_to_json(api->ask(req.matches[1], static_cast<int>(q), worker, fixed))};
        }));

    http->Post(
        trial + "/tell",
        handler(Role::kWorker, [this](const httplib::Request& req, const Caller& caller) {
          const json body = parse_body(req, false);
          const Fields f(body, {"value", "values", "state", "skip_if_finished", "worker_id"});
          const bool skip = f.boolean("skip_if_finished", false);
          if (int(f.has("value")) + int(f.has("values")) + int(f.has("state")) != 1) {
            throw InvalidArgument("tell needs exactly one of 'value', 'values' or 'state'");
          }
          const std::int64_t id = trial_id(req.matches[2]);
          check_holder(caller, req.matches[1], id, f.string("worker_id", ""));
          if (f.has("values")) {
            const MetricValues values = metric_values_from_json(f.at("values"));
            return Reply{200, trial_to_json(api->tell_values(req.matches[1], id, values, skip))};
          }
          if (f.has("value")) {
            const json& v = f.at("value");
            if (!v.is_number()) throw InvalidArgument("field 'value' must be a number");
            const double value = v.get<double>();
            if (!std::isfinite(value)) throw InvalidArgument("field 'value' must be finite");
            return Reply{200, trial_to_json(api->tell(req.matches[1], id, value, skip))};
          }
          const std::string state = f.string("state", "");
          if (state != "failed" && state != "pruned") {
            throw InvalidArgument("field 'state' must be \"failed\" or \"pruned\"");
          }
          return Reply{200, trial_to_json(api->tell_state(req.matches[1], id,
                                                          parse_trial_state(state), skip))};
        }));

    http->Post(trial + "/heartbeat",
               handler(Role::kWorker, [this](const httplib::Request& req, const Caller& caller) {
                 const json body = parse_body(req, true);
                 const Fields f(body, {"worker_id"});
                 const std::int64_t id = trial_id(req.matches[2]);
                 check_holder(caller, req.matches[1], id, f.string("worker_id", ""));
                 return Reply{200, trial_to_json(api->heartbeat(req.matches[1], id))};
               }));

    http->Post(trial + "/intermediate",
               handler(Role::kWorker, [this](const httplib::Request& req, const Caller& caller) {
                 const json body = parse_body(req, false);
                 const Fields f(body, {"step", "value", "worker_id"});
                 if (!f.has("step")) throw InvalidArgument("field 'step' is required");
                 if (!f.at("step").is_number_integer()) {
                   throw InvalidArgument("field 'step' must be an integer");
                 }
                 const std::int64_t step = f.integer("step", 0);
                 if (!f.has("value") || !f.at("value").is_number()) {
                   throw InvalidArgument("field 'value' must be a number");
                 }
                 const double value = f.at("value").get<double>();
                 if (!std::isfinite(value)) throw InvalidArgument("field 'value' must be finite");
                 const std::int64_t id = trial_id(req.matches[2]);
                 check_holder(caller, req.matches[1], id, f.string("worker_id", ""));
                 const PruneAnswer a = api->report_value(req.matches[1], id, step, value);
                 return Reply{200, json{{"prune", a.prune}, {"trial", trial_to_json(a.trial)}}};
               }));

    http->Get(
        trial + "/prune", handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
          return Reply{
              200, json{{"prune", api->should_prune(req.matches[1], trial_id(req.matches[2]))}}};
        }));

    http->Get(study + "/cost",
              handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
                return Reply{200, service::cost_to_json(api->cost(req.matches[1]))};
              }));

    http->Get(
        trial, handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
          return Reply{200, trial_to_json(api->trial(req.matches[1], trial_id(req.matches[2])))};
        }));

    http->Post(study + "/enqueue",
               handler(Role::kAdmin, [this](const httplib::Request& req, const Caller&) {
                 const json body = parse_body(req, false);
                 const Fields f(body, {"params"});
                 const json& params = f.object("params");
                 api->enqueue(req.matches[1], params);
                 return Reply{200, {{"enqueued", params}}};
               }));

    http->Get(study + "/best",
              handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
                const std::string name = req.matches[1];
                const auto best = api->best(name);
                if (!best) throw NotFound("study '" + name + "' has no complete (feasible) trial");
                json out = trial_to_json(*best);
                out["cost"] = service::cost_to_json(api->cost(name));
                json drift = api->drift(name);
                if (drift.at("mode") != "off") out["drift"] = std::move(drift);
                return Reply{200, out};
              }));

    http->Get(study + "/pareto",
              handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
                const std::string name = req.matches[1];
                StudyOptions options;
                PersistenceOptions persistence;
                study_options_from_json(api->get_study(name).options_json, &options, &persistence);
                return Reply{200, service::pareto_to_json(api->pareto(name), options.metrics)};
              }));

    http->Get(study + "/drift",
              handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
                return Reply{200, api->drift(req.matches[1])};
              }));

    http->Get(study + "/outliers",
              handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
                return Reply{200, json{{"outliers", api->outliers(req.matches[1])}}};
              }));

    http->Post(study + "/trials",
               handler(Role::kAdmin, [this](const httplib::Request& req, const Caller&) {
                 const json body = parse_body(req, false);
                 const Fields f(body, {"trials"});
                 if (!f.at("trials").is_array()) {
                   throw InvalidArgument("field 'trials' must be an array");
                 }
                 const std::string name = req.matches[1];
                 const Space space = Space::from_json(api->get_study(name).space_json);
                 return Reply{201, trials_to_json(api->add_trials(
                                       name, finished_trials_from_json(body, &space)))};
               }));

    http->Get(study + "/trials",
              handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
                return Reply{200, trials_to_json(api->trials(req.matches[1]))};
              }));

    http->Get(study + "/log",
              handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
                return Reply{200, service::log_to_json(api->log(req.matches[1]))};
              }));

    http->Get(study + "/verify",
              handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
                return Reply{200, service::verify_report_to_json(api->verify(req.matches[1]))};
              }));

    http->Get(study + "/report",
              handler(Role::kRead, [this](const httplib::Request& req, const Caller&) {
                Reply r{200, json()};
                r.html = api->report(req.matches[1]);
                return r;
              }));

    // Before any body is read: cpp-httplib reads, and decompresses, a request body after this
    // handler, so an encoded body is refused here (a 204 KB gzip body once became 200 MiB
    // before any limit applied) and the token is checked here too (an unauthenticated client
    // never gets its body read; the routes check it again).
    http->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      t_routed = true;
      const httplib::Server::HandlerResponse handled = pre_route(req, res);
      // A body that cpp-httplib will not read (refused here, or sent with a GET) would be
      // parsed as the next request of the connection: close the connection after this reply.
      const bool has_body =
          (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0") ||
          req.has_header("Transfer-Encoding");
      const bool read_later = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
      if (has_body && (handled == httplib::Server::HandlerResponse::Handled || !read_later)) {
        t_close_after = true;
        if (res.get_header_value("Connection") != "close") res.set_header("Connection", "close");
      }
      return handled;
    });

    http->set_post_routing_handler(
        [](const httplib::Request&, httplib::Response&) { t_routed = false; });

    // Errors raised by httplib itself (no route, body too large, unreadable request) get the
    // same JSON form; replies of the routes above already have a body and are left alone.
    // httplib's own errors (a request it could not parse, a body over the limit, ...) may leave
    // unread bytes that it would take for the next request: the connection closes after them.
    // A request that never reached the pre-routing handler is one httplib could not parse.
    http->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&,
                                                                    httplib::Response& res) {
      if (!t_routed || res.body.empty()) {
        t_close_after = true;
        if (res.get_header_value("Connection") != "close") res.set_header("Connection", "close");
      }
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      std::string message = "HTTP error " + std::to_string(res.status);
      if (res.status == 400) message = "malformed HTTP request";
      if (res.status == 404) message = "no such endpoint (or method)";
      if (res.status == 413) message = "the request body is larger than the server's limit";
      if (res.status == 414) message = "the request URI is too long";
      res.set_content(dump(error_body(code_for_status(res.status), message)), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }));
  }
};

HttpServer::HttpServer(std::shared_ptr<service::StudyService> api, ServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (!options.token.empty()) {
    options.tokens.push_back({"default", Role::kAdmin, service::sha256(options.token)});
  }
  const bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  if (tls && (options.tls_cert.empty() || options.tls_key.empty())) {
    throw InvalidArgument("TLS needs both --tls-cert and --tls-key");
  }
  if (options.tokens.empty() && !is_loopback_host(options.host)) {
    throw InvalidArgument("listening on '" + options.host +
                          "' (not loopback) needs a token: --token-file FILE or "
                          "GPBO_SERVER_TOKEN");
  }
  if (!tls && !options.insecure_http && !is_loopback_host(options.host)) {
    throw InvalidArgument("listening on '" + options.host +
                          "' (not loopback) sends tokens in clear text without TLS: pass "
                          "--tls-cert and --tls-key, or --insecure-http to accept that");
  }
  if (options.port < 0 || options.port > 65535) throw InvalidArgument("port out of range");
  if (options.max_body_bytes < 1024) throw InvalidArgument("--max-body-bytes must be >= 1024");
  if (options.max_batch < 1) throw InvalidArgument("--max-batch must be >= 1");
  if (options.threads < 1 || options.threads > 1024) {
    throw InvalidArgument("--threads must be in 1..1024");
  }
  if (options.queue_limit < 0 || options.queue_limit > 1 << 20) {
    throw InvalidArgument("--queue-limit must be in 0..1048576");
  }
  if (!(options.rate_per_second >= 0) || options.rate_per_second > 1e9 || options.rate_burst < 0) {
    throw InvalidArgument("--rate-limit must be >= 0 and --rate-burst >= 0");
  }
  if (options.read_timeout_seconds < 1 || options.read_timeout_seconds > 3600) {
    throw InvalidArgument("--read-timeout must be in 1..3600 seconds");
  }
  if (options.request_timeout_seconds < 1 || options.request_timeout_seconds > 86400) {
    throw InvalidArgument("--request-timeout must be in 1..86400 seconds");
  }
  if (options.keep_alive_max_count < 1) throw InvalidArgument("--keep-alive-max must be >= 1");
  impl_->api = std::move(api);
  impl_->options = std::move(options);
  Impl& s = *impl_;
  if (tls) {
    auto server = std::make_unique<WideBacklog<httplib::SSLServer>>(s.options.tls_cert.c_str(),
                                                                    s.options.tls_key.c_str());
    if (!server->is_valid()) {
      throw InvalidArgument("cannot load the TLS certificate '" + s.options.tls_cert +
                            "' and key '" + s.options.tls_key +
                            "' (unreadable, not PEM, or "
                            "not a pair)");
    }
    s.widen_backlog = [p = server.get()](int backlog) { return p->widen_backlog(backlog); };
    s.http = std::move(server);
  } else {
    auto server = std::make_unique<GatedServer>();
    s.widen_backlog = [p = server.get()](int backlog) { return p->widen_backlog(backlog); };
    s.gated = server.get();
    s.http = std::move(server);
  }
  const int threads = s.options.threads;
  const int queue_limit = s.options.queue_limit;
  if (s.gated == nullptr) {
    s.http->new_task_queue = [threads, queue_limit] {
      return new BoundedPool(threads, queue_limit);
    };
  } else {
    s.workers = std::make_unique<BoundedPool>(threads, queue_limit);
    const auto request_timeout = std::chrono::seconds(s.options.request_timeout_seconds);
    s.room = std::make_unique<WaitingRoom>(
        [&s, request_timeout](Connection c) {
          s.workers->enqueue([&s, request_timeout, c]() mutable {
            Connection rest = s.gated->serve(std::move(c), request_timeout, t_overflow);
            if (rest.fd >= 0) s.room->add(std::move(rest), true);
          });
        },
        std::chrono::seconds(s.options.read_timeout_seconds), std::chrono::seconds(kIdleSeconds),
        kMaxWaitingConnections);
    s.gated->on_accept = [&s](int fd) { s.room->add(Connection{fd, "", 0}, false); };
    s.http->new_task_queue = [] { return new InlineQueue; };
  }
  s.limiter = std::make_unique<RateLimiter>(
      s.options.rate_per_second,
      s.options.rate_burst > 0
          ? s.options.rate_burst
          : static_cast<int>(std::max(1.0, std::ceil(2 * s.options.rate_per_second))));
  s.http->set_payload_max_length(s.options.max_body_bytes);
  s.http->set_keep_alive_max_count(static_cast<std::size_t>(s.options.keep_alive_max_count));
  s.http->set_keep_alive_timeout(kIdleSeconds);
  s.http->set_read_timeout(s.options.read_timeout_seconds);
  s.http->set_write_timeout(10);
  s.add_routes();
}

HttpServer::~HttpServer() {
  stop();
  // A socket that was bound but never served is closed by httplib only when listening ends.
  if (impl_->bound && !impl_->run_started) run();
  if (impl_->room) impl_->room->stop();
  if (impl_->workers) impl_->workers->shutdown();
}

int HttpServer::bind() {
  Impl& s = *impl_;
  int port = s.options.port;
  bool ok = false;
  if (port == 0) {
    port = s.http->bind_to_any_port(s.options.host);
    ok = port > 0;
  } else {
    ok = s.http->bind_to_port(s.options.host, port);
  }
  s.bound = ok;
  if (ok && !s.widen_backlog(kListenBacklog)) {
    throw Error("cannot set the listen backlog on " + s.options.host + ":" + std::to_string(port));
  }
  if (!ok) {
    throw Error("cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) +
                " (address in use or not available)");
  }
  return port;
}

void HttpServer::run() {
  Impl& s = *impl_;
  s.run_started = true;
  // A stop() that came before run() still has to end the listening, and with it the socket.
  std::thread stopper;
  if (s.stop_requested) stopper = std::thread([this] { stop(); });
  s.http->listen_after_bind();
  // No more connections come: close the waiting ones, let those being served finish.
  if (s.room) s.room->stop();
  if (s.workers) s.workers->shutdown();
  s.run_returned = true;
  if (stopper.joinable()) stopper.join();
}

void HttpServer::wait_until_running() const {
  const Impl& s = *impl_;
  while (!s.http->is_running() && !s.run_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void HttpServer::stop() {
  Impl& s = *impl_;
  s.stop_requested = true;
  // httplib ignores stop() until listening has begun: wait for that when run() is under way.
  if (s.run_started) wait_until_running();
  s.http->stop();
}

}  // namespace gpbo::server
