#include "server/server.hpp"

#include <httplib.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <thread>

#include "codec/metrics_json.hpp"
#include "codec/trial_json.hpp"
#include "common/json_text.hpp"
#include "gpbo/error.hpp"
#include "server/auth.hpp"
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
class WideBacklogServer : public httplib::Server {
 public:
  bool widen_backlog(int backlog) {
    const socket_t sock = svr_sock_;
    return sock != INVALID_SOCKET && ::listen(sock, backlog) == 0;
  }
};

constexpr int kListenBacklog = 1024;

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<service::StudyService> api;
  ServerOptions options;
  WideBacklogServer http;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> bound{false};
  std::atomic<bool> run_started{false};
  std::atomic<bool> run_returned{false};

  using Route = std::function<Reply(const httplib::Request&)>;

  /// Wraps a route: checks the token, runs it, and turns its errors into JSON replies.
  httplib::Server::Handler handler(Route route, bool needs_token = true) {
    return [this, route = std::move(route), needs_token](const httplib::Request& req,
                                                         httplib::Response& res) {
      Reply reply;
      try {
        if (needs_token && !options.token.empty() &&
            !bearer_matches(req.get_header_value("Authorization"), options.token)) {
          throw Unauthorized(req.has_header("Authorization")
                                 ? "wrong bearer token"
                                 : "this server needs 'Authorization: Bearer <token>'");
        }
        reply = route(req);
      } catch (const Unauthorized& e) {
        reply = {401, error_body("unauthorized", e.what())};
        res.set_header("WWW-Authenticate", "Bearer");
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

  void add_routes() {
    const std::string study = "/v1/studies/([^/]+)";
    const std::string trial = study + "/trials/([0-9]+)";

    http.Get("/v1/health", handler(
                               [](const httplib::Request&) {
                                 return Reply{200, {{"status", "ok"}, {"version", GPBO_VERSION}}};
                               },
                               false));

    http.Get("/v1/studies", handler([this](const httplib::Request&) {
               json arr = json::array();
               for (const StudyInfo& s : api->list_studies()) arr.push_back(study_to_json(s));
               return Reply{200, {{"studies", arr}}};
             }));

    http.Post(
        "/v1/studies", handler([this](const httplib::Request& req) {
          const json body = parse_body(req, false);
          const Fields f(body, {"name", "space", "direction", "options"});
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
          return Reply{201, study_to_json(api->create_study(name, space, options, persistence))};
        }));

    http.Get(study, handler([this](const httplib::Request& req) {
               return Reply{200, study_to_json(api->get_study(req.matches[1]))};
             }));

    http.Delete(study, handler([this](const httplib::Request& req) {
                  const std::string name = req.matches[1];
                  api->delete_study(name);
                  return Reply{200, {{"deleted", name}}};
                }));

    http.Post(
        study + "/ask", handler([this](const httplib::Request& req) {
          const json body = parse_body(req, true);
          const Fields f(body, {"q", "worker_id"});
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
          return Reply{200, trials_to_json(api->ask(req.matches[1], static_cast<int>(q), worker))};
        }));

    http.Post(
        trial + "/tell", handler([this](const httplib::Request& req) {
          const json body = parse_body(req, false);
          const Fields f(body, {"value", "values", "state", "skip_if_finished"});
          const bool skip = f.boolean("skip_if_finished", false);
          if (int(f.has("value")) + int(f.has("values")) + int(f.has("state")) != 1) {
            throw InvalidArgument("tell needs exactly one of 'value', 'values' or 'state'");
          }
          const std::int64_t id = trial_id(req.matches[2]);
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

    http.Post(trial + "/heartbeat", handler([this](const httplib::Request& req) {
                const json body = parse_body(req, true);
                const Fields f(body, {});
                return Reply{
                    200, trial_to_json(api->heartbeat(req.matches[1], trial_id(req.matches[2])))};
              }));

    http.Get(
        trial, handler([this](const httplib::Request& req) {
          return Reply{200, trial_to_json(api->trial(req.matches[1], trial_id(req.matches[2])))};
        }));

    http.Post(study + "/enqueue", handler([this](const httplib::Request& req) {
                const json body = parse_body(req, false);
                const Fields f(body, {"params"});
                const json& params = f.object("params");
                api->enqueue(req.matches[1], params);
                return Reply{200, {{"enqueued", params}}};
              }));

    http.Get(study + "/best", handler([this](const httplib::Request& req) {
               const std::string name = req.matches[1];
               const auto best = api->best(name);
               if (!best) throw NotFound("study '" + name + "' has no complete (feasible) trial");
               return Reply{200, trial_to_json(*best)};
             }));

    http.Get(study + "/pareto", handler([this](const httplib::Request& req) {
               const std::string name = req.matches[1];
               StudyOptions options;
               PersistenceOptions persistence;
               study_options_from_json(api->get_study(name).options_json, &options, &persistence);
               return Reply{200, service::pareto_to_json(api->pareto(name), options.metrics)};
             }));

    http.Get(study + "/outliers", handler([this](const httplib::Request& req) {
               return Reply{200, json{{"outliers", api->outliers(req.matches[1])}}};
             }));

    http.Post(study + "/trials", handler([this](const httplib::Request& req) {
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

    http.Get(study + "/trials", handler([this](const httplib::Request& req) {
               return Reply{200, trials_to_json(api->trials(req.matches[1]))};
             }));

    http.Get(study + "/log", handler([this](const httplib::Request& req) {
               return Reply{200, service::log_to_json(api->log(req.matches[1]))};
             }));

    http.Get(study + "/verify", handler([this](const httplib::Request& req) {
               return Reply{200, service::verify_report_to_json(api->verify(req.matches[1]))};
             }));

    http.Get(study + "/report", handler([this](const httplib::Request& req) {
               Reply r{200, json()};
               r.html = api->report(req.matches[1]);
               return r;
             }));

    // Before any body is read: cpp-httplib reads, and decompresses, a request body after this
    // handler, so an encoded body is refused here (a 204 KB gzip body once became 200 MiB
    // before any limit applied) and the token is checked here too (an unauthenticated client
    // never gets its body read; the routes check it again).
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
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
      if (req.path != "/v1/health" && !options.token.empty() &&
          !bearer_matches(req.get_header_value("Authorization"), options.token)) {
        res.status = 401;
        res.set_header("WWW-Authenticate", "Bearer");
        res.set_content(dump(error_body("unauthorized",
                                        req.has_header("Authorization")
                                            ? "wrong bearer token"
                                            : "this server needs 'Authorization: Bearer <token>'")),
                        "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });

    // Errors raised by httplib itself (no route, body too large, unreadable request) get the
    // same JSON form; replies of the routes above already have a body and are left alone.
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&,
                                                                   httplib::Response& res) {
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
  if (options.token.empty() && !is_loopback_host(options.host)) {
    throw InvalidArgument("listening on '" + options.host +
                          "' (not loopback) needs a token: --token-file FILE or "
                          "GPBO_SERVER_TOKEN");
  }
  if (options.port < 0 || options.port > 65535) throw InvalidArgument("port out of range");
  if (options.max_body_bytes < 1024) throw InvalidArgument("--max-body-bytes must be >= 1024");
  if (options.max_batch < 1) throw InvalidArgument("--max-batch must be >= 1");
  if (options.threads < 1 || options.threads > 1024) {
    throw InvalidArgument("--threads must be in 1..1024");
  }
  impl_->api = std::move(api);
  impl_->options = std::move(options);
  Impl& s = *impl_;
  const int threads = s.options.threads;
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.http.set_payload_max_length(s.options.max_body_bytes);
  s.http.set_keep_alive_max_count(100);
  s.http.set_keep_alive_timeout(2);
  s.http.set_read_timeout(10);
  s.http.set_write_timeout(10);
  s.add_routes();
}

HttpServer::~HttpServer() {
  stop();
  // A socket that was bound but never served is closed by httplib only when listening ends.
  if (impl_->bound && !impl_->run_started) run();
}

int HttpServer::bind() {
  Impl& s = *impl_;
  int port = s.options.port;
  bool ok = false;
  if (port == 0) {
    port = s.http.bind_to_any_port(s.options.host);
    ok = port > 0;
  } else {
    ok = s.http.bind_to_port(s.options.host, port);
  }
  s.bound = ok;
  if (ok && !s.http.widen_backlog(kListenBacklog)) {
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
  s.http.listen_after_bind();
  s.run_returned = true;
  if (stopper.joinable()) stopper.join();
}

void HttpServer::wait_until_running() const {
  const Impl& s = *impl_;
  while (!s.http.is_running() && !s.run_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void HttpServer::stop() {
  Impl& s = *impl_;
  s.stop_requested = true;
  // httplib ignores stop() until listening has begun: wait for that when run() is under way.
  if (s.run_started) wait_until_running();
  s.http.stop();
}

}  // namespace gpbo::server
