#include "service/remote_study_service.hpp"

#include <httplib.h>
#include <openssl/x509.h>

#include <cctype>
#include <fstream>
#include <mutex>

#include "codec/metrics_json.hpp"
#include "codec/trial_json.hpp"
#include "gpbo/error.hpp"
#include "service/study_json.hpp"
#include "service/token.hpp"

namespace gpbo::service {

using nlohmann::json;

std::string encode_path_segment(const std::string& segment) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : segment) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

/// The typed error of a failed reply: the body's {"error": {"code", "message"}} names the kind.
[[noreturn]] void throw_reply_error(int status, const json& reply) {
  std::string message = "HTTP " + std::to_string(status);
  std::string code;
  if (reply.is_object() && reply.contains("error") && reply["error"].is_object()) {
    const json& e = reply["error"];
    if (e.contains("message") && e["message"].is_string()) message = e["message"];
    if (e.contains("code") && e["code"].is_string()) code = e["code"];
  }
  bool known = !code.empty();
  ErrorKind kind = ErrorKind::kInternal;
  try {
    if (known) kind = parse_error_kind(code);
  } catch (const InvalidArgument&) {
    known = false;  // a code of the server's own (unauthorized, payload_too_large, ...)
  }
  if (known && kind != ErrorKind::kInternal) throw_error(kind, message);
  if (status == 401) throw InvalidArgument("unauthorized: " + message);
  if (status == 403) throw InvalidArgument("forbidden: " + message);
  if (status == 429) throw StorageError("the server is busy (HTTP 429): " + message);
  if (status >= 400 && status < 500) throw InvalidArgument(message);
  throw Error("server error (HTTP " + std::to_string(status) + "): " + message);
}

}  // namespace

struct RemoteStudyService::Impl {
  std::string url;
  std::string worker_id;
  std::mutex mutex;  // httplib::Client is used by one request at a time
  std::unique_ptr<httplib::Client> http;

  /// Sends one request; returns the JSON body of a 2xx reply, throws the typed error otherwise.
  json call(const std::string& method, const std::string& path, const json* body) {
    const std::string text = call_raw(method, path, body);
    json reply;
    try {
      reply = json::parse(text);
    } catch (const json::exception&) {
      reply = json();
    }
    if (reply.is_null()) {
      throw Error("the gpbo server at " + url + " sent a reply that is not JSON");
    }
    return reply;
  }

  /// The body of a 2xx reply as it came (the report is HTML); the typed error otherwise.
  std::string call_raw(const std::string& method, const std::string& path, const json* body) {
    std::lock_guard<std::mutex> lock(mutex);
    httplib::Result r = [&] {
      const std::string text = body ? body->dump() : std::string();
      if (method == "GET") return http->Get(path);
      if (method == "DELETE") return http->Delete(path);
      return http->Post(path, text, "application/json");
    }();
    if (!r && r.error() == httplib::Error::SSLServerVerification) {
      const long result = http->get_openssl_verify_result();
      throw StorageError("the TLS certificate of the gpbo server at " + url +
                         " could not be verified (" + X509_verify_cert_error_string(result) +
                         "); pass the CA that signed it with --ca-file (Python: ca_file=)");
    }
    if (!r) {
      throw StorageError("cannot reach the gpbo server at " + url + " (" +
                         httplib::to_string(r.error()) + ")");
    }
    const int status = r->status;
    if (status < 200 || status >= 300) {
      json reply;
      try {
        reply = json::parse(r->body);
      } catch (const json::exception&) {
        reply = json();
      }
      throw_reply_error(status, reply);
    }
    return r->body;
  }

  /// A reply's body read by `read`; a malformed one is the server's fault, not the caller's.
  template <typename Read>
  auto parse(const json& reply, Read read) -> decltype(read(reply)) {
    try {
      return read(reply);
    } catch (const InvalidArgument& e) {
      throw Error("the gpbo server at " + url + " sent a malformed reply: " + e.what());
    }
  }

  static std::string study_path(const std::string& name) {
    return "/v1/studies/" + encode_path_segment(name);
  }
  static std::string trial_path(const std::string& name, std::int64_t id) {
    return study_path(name) + "/trials/" + std::to_string(id);
  }
};

RemoteStudyService::RemoteStudyService(const std::string& url, const std::string& token,
                                       double timeout_seconds)
    : RemoteStudyService(url, token, RemoteOptions{timeout_seconds, "", false, ""}) {}

RemoteStudyService::RemoteStudyService(const std::string& url, const std::string& token,
                                       const RemoteOptions& options)
    : impl_(std::make_unique<Impl>()) {
  const double timeout_seconds = options.timeout_seconds;
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::size_t scheme = base.find("://");
  if (scheme == std::string::npos ||
      (base.substr(0, scheme) != "http" && base.substr(0, scheme) != "https")) {
    throw InvalidArgument("--server '" + url + "': expected http://HOST:PORT");
  }
  if (base.find('/', scheme + 3) != std::string::npos) {
    throw InvalidArgument("--server '" + url + "': expected http://HOST:PORT without a path");
  }
  const bool https = base.substr(0, scheme) == "https";
  std::string host = base.substr(scheme + 3);
  if (!host.empty() && host[0] == '[') {
    host = host.substr(1, host.find(']') == std::string::npos ? 0 : host.find(']') - 1);
  } else {
    host = host.substr(0, host.rfind(':'));
  }
  if (!token.empty() && !https && !options.insecure_http && !is_loopback_host(host)) {
    throw InvalidArgument("--server '" + url +
                          "': refusing to send the token in clear text to a host that is not "
                          "loopback; use https:// (or --insecure-http to accept the risk)");
  }
  if (!options.ca_file.empty() && !std::ifstream(options.ca_file)) {
    throw InvalidArgument("cannot read the CA file '" + options.ca_file + "'");
  }
  impl_->url = base;
  impl_->worker_id = options.worker_id;
  impl_->http = std::make_unique<httplib::Client>(base);
  if (!impl_->http->is_valid()) {
    throw InvalidArgument("--server '" + url + "': not a usable http(s)://HOST:PORT URL");
  }
  impl_->http->set_url_encode(false);  // paths are encoded here, segment by segment
  if (https) {
    impl_->http->enable_server_certificate_verification(true);
    if (!options.ca_file.empty()) impl_->http->set_ca_cert_path(options.ca_file);
  }
  impl_->http->set_connection_timeout(10);
  const auto timeout = std::chrono::duration<double>(timeout_seconds);
  impl_->http->set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  impl_->http->set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  if (!token.empty()) impl_->http->set_bearer_token_auth(token);
}

RemoteStudyService::~RemoteStudyService() = default;

StudyInfo RemoteStudyService::create_study(const std::string& name, const Space& space,
                                           const StudyOptions& options,
                                           const PersistenceOptions& persistence) {
  const json body = {{"name", name},
                     {"space", json::parse(space.to_json())},
                     {"direction", to_string(options.direction)},
                     {"options", json::parse(study_options_to_json(options, persistence))}};
  return impl_->parse(impl_->call("POST", "/v1/studies", &body), study_from_json);
}

StudyInfo RemoteStudyService::create_warm_started_study(const std::string& name, const Space& space,
                                                        const StudyOptions& options,
                                                        const PersistenceOptions& persistence,
                                                        const WarmStartRequest& warm) {
  const json body = {{"name", name},
                     {"space", json::parse(space.to_json())},
                     {"direction", to_string(options.direction)},
                     {"options", json::parse(study_options_to_json(options, persistence))},
                     {"warm_start", warm_start_request_to_json(warm)}};
  return impl_->parse(impl_->call("POST", "/v1/studies", &body), study_from_json);
}

std::vector<StudyInfo> RemoteStudyService::list_studies() {
  return impl_->parse(impl_->call("GET", "/v1/studies", nullptr), [](const json& reply) {
    if (!reply.contains("studies") || !reply["studies"].is_array()) {
      throw InvalidArgument("no study list");
    }
    std::vector<StudyInfo> out;
    for (const json& s : reply["studies"]) out.push_back(study_from_json(s));
    return out;
  });
}

StudyInfo RemoteStudyService::get_study(const std::string& name) {
  return impl_->parse(impl_->call("GET", Impl::study_path(name), nullptr), study_from_json);
}

void RemoteStudyService::delete_study(const std::string& name) {
  impl_->call("DELETE", Impl::study_path(name), nullptr);
}

std::vector<Trial> RemoteStudyService::ask(const std::string& study, int q,
                                           const std::string& worker_id, const json& fixed) {
  json body = {{"q", q}, {"worker_id", worker_id}};
  if (!fixed.is_object() || !fixed.empty()) body["fixed"] = fixed;  // the server checks it
  return impl_->parse(impl_->call("POST", Impl::study_path(study) + "/ask", &body),
                      trials_from_json);
}

Trial RemoteStudyService::tell(const std::string& study, std::int64_t trial, double value,
                               bool skip_if_finished) {
  json body = {{"value", value}, {"skip_if_finished", skip_if_finished}};
  if (!impl_->worker_id.empty()) body["worker_id"] = impl_->worker_id;
  return impl_->parse(impl_->call("POST", Impl::trial_path(study, trial) + "/tell", &body),
                      trial_from_json);
}

Trial RemoteStudyService::tell_values(const std::string& study, std::int64_t trial,
                                      const MetricValues& values, bool skip_if_finished) {
  json body = {{"values", metric_values_to_json(values)}, {"skip_if_finished", skip_if_finished}};
  if (!impl_->worker_id.empty()) body["worker_id"] = impl_->worker_id;
  return impl_->parse(impl_->call("POST", Impl::trial_path(study, trial) + "/tell", &body),
                      trial_from_json);
}

Trial RemoteStudyService::tell_state(const std::string& study, std::int64_t trial, TrialState state,
                                     bool skip_if_finished) {
  json body = {{"state", to_string(state)}, {"skip_if_finished", skip_if_finished}};
  if (!impl_->worker_id.empty()) body["worker_id"] = impl_->worker_id;
  return impl_->parse(impl_->call("POST", Impl::trial_path(study, trial) + "/tell", &body),
                      trial_from_json);
}

Trial RemoteStudyService::heartbeat(const std::string& study, std::int64_t trial) {
  json body = json::object();
  if (!impl_->worker_id.empty()) body["worker_id"] = impl_->worker_id;
  return impl_->parse(impl_->call("POST", Impl::trial_path(study, trial) + "/heartbeat", &body),
                      trial_from_json);
}

PruneAnswer RemoteStudyService::report_value(const std::string& study, std::int64_t trial,
                                             std::int64_t step, double value) {
  json body = {{"step", step}, {"value", value}};
  if (!impl_->worker_id.empty()) body["worker_id"] = impl_->worker_id;
  return impl_->parse(impl_->call("POST", Impl::trial_path(study, trial) + "/intermediate", &body),
                      [](const json& j) {
                        PruneAnswer a;
                        a.prune = j.at("prune").get<bool>();
                        a.trial = trial_from_json(j.at("trial"));
                        return a;
                      });
}

bool RemoteStudyService::should_prune(const std::string& study, std::int64_t trial) {
  return impl_->parse(impl_->call("GET", Impl::trial_path(study, trial) + "/prune", nullptr),
                      [](const json& j) { return j.at("prune").get<bool>(); });
}

StudyCost RemoteStudyService::cost(const std::string& study) {
  return impl_->parse(impl_->call("GET", Impl::study_path(study) + "/cost", nullptr),
                      cost_from_json);
}

void RemoteStudyService::enqueue(const std::string& study, const json& params) {
  const json body = {{"params", params}};
  impl_->call("POST", Impl::study_path(study) + "/enqueue", &body);
}

std::vector<Trial> RemoteStudyService::add_trials(const std::string& study,
                                                  const std::vector<Trial>& trials) {
  const json body = finished_trials_to_json(trials);
  return impl_->parse(impl_->call("POST", Impl::study_path(study) + "/trials", &body),
                      trials_from_json);
}

std::optional<Trial> RemoteStudyService::best(const std::string& study) {
  try {
    return impl_->parse(impl_->call("GET", Impl::study_path(study) + "/best", nullptr),
                        trial_from_json);
  } catch (const NotFound&) {
    // Either the study or a complete trial is missing; ask which.
    get_study(study);
    return std::nullopt;
  }
}

ParetoFront RemoteStudyService::pareto(const std::string& study) {
  return impl_->parse(impl_->call("GET", Impl::study_path(study) + "/pareto", nullptr),
                      pareto_from_json);
}

std::vector<std::int64_t> RemoteStudyService::outliers(const std::string& study) {
  return impl_->parse(
      impl_->call("GET", Impl::study_path(study) + "/outliers", nullptr),
      [](const json& j) { return j.at("outliers").get<std::vector<std::int64_t>>(); });
}

json RemoteStudyService::drift(const std::string& study) {
  return impl_->parse(impl_->call("GET", Impl::study_path(study) + "/drift", nullptr),
                      [](const json& j) { return j; });
}

std::vector<Trial> RemoteStudyService::trials(const std::string& study) {
  return impl_->parse(impl_->call("GET", Impl::study_path(study) + "/trials", nullptr),
                      trials_from_json);
}

Trial RemoteStudyService::trial(const std::string& study, std::int64_t trial) {
  return impl_->parse(impl_->call("GET", Impl::trial_path(study, trial), nullptr), trial_from_json);
}

std::string RemoteStudyService::report(const std::string& study) {
  return impl_->call_raw("GET", Impl::study_path(study) + "/report", nullptr);
}

std::vector<LogEntry> RemoteStudyService::log(const std::string& study) {
  return impl_->parse(impl_->call("GET", Impl::study_path(study) + "/log", nullptr), log_from_json);
}

VerifyReport RemoteStudyService::verify(const std::string& study) {
  return impl_->parse(impl_->call("GET", Impl::study_path(study) + "/verify", nullptr),
                      verify_report_from_json);
}

}  // namespace gpbo::service
