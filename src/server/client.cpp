#include "server/client.hpp"

#include <httplib.h>

#include <cctype>
#include <mutex>

#include "gpbo/error.hpp"

namespace gpbo::server {

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

struct Client::Impl {
  std::string url;
  std::mutex mutex;  // httplib::Client is used by one request at a time
  std::unique_ptr<httplib::Client> http;

  /// Sends one request; returns the JSON body of a 2xx reply, throws the typed error otherwise.
  json call(const std::string& method, const std::string& path, const json* body) {
    std::lock_guard<std::mutex> lock(mutex);
    httplib::Result r = [&] {
      const std::string text = body ? body->dump() : std::string();
      if (method == "GET") return http->Get(path);
      if (method == "DELETE") return http->Delete(path);
      return http->Post(path, text, "application/json");
    }();
    if (!r) {
      throw StorageError("cannot reach the gpbo server at " + url + " (" +
                         httplib::to_string(r.error()) + ")");
    }
    json reply;
    try {
      reply = json::parse(r->body);
    } catch (const json::exception&) {
      reply = json();
    }
    const int status = r->status;
    if (status >= 200 && status < 300) {
      if (reply.is_discarded() || reply.is_null()) {
        throw Error("the gpbo server at " + url + " sent a reply that is not JSON");
      }
      return reply;
    }
    std::string message = "HTTP " + std::to_string(status);
    if (reply.is_object() && reply.contains("error") && reply["error"].is_object() &&
        reply["error"].contains("message") && reply["error"]["message"].is_string()) {
      message = reply["error"]["message"].get<std::string>();
    }
    switch (status) {
      case 401:
        throw InvalidArgument("unauthorized: " + message);
      case 404:
        throw NotFound(message);
      case 409:
        throw Conflict(message);
      case 503:
        throw StorageError(message);
      default:
        if (status >= 400 && status < 500) throw InvalidArgument(message);
        throw Error("server error (HTTP " + std::to_string(status) + "): " + message);
    }
  }

  static std::string study_path(const std::string& name) {
    return "/v1/studies/" + encode_path_segment(name);
  }
  static std::string trial_path(const std::string& name, std::int64_t id) {
    return study_path(name) + "/trials/" + std::to_string(id);
  }
};

Client::Client(const std::string& url, const std::string& token, double timeout_seconds)
    : impl_(std::make_unique<Impl>()) {
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
  impl_->url = base;
  impl_->http = std::make_unique<httplib::Client>(base);
  if (!impl_->http->is_valid()) {
    throw InvalidArgument("--server '" + url + "': not a usable http(s)://HOST:PORT URL");
  }
  impl_->http->set_url_encode(false);  // paths are encoded here, segment by segment
  impl_->http->set_connection_timeout(10);
  const auto timeout = std::chrono::duration<double>(timeout_seconds);
  impl_->http->set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  impl_->http->set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  if (!token.empty()) impl_->http->set_bearer_token_auth(token);
}

Client::~Client() = default;

StudyInfo Client::create_study(const std::string& name, const Space& space,
                               const StudyOptions& options, const PersistenceOptions& persistence) {
  const json body = {{"name", name},
                     {"space", json::parse(space.to_json())},
                     {"direction", to_string(options.direction)},
                     {"options", json::parse(study_options_to_json(options, persistence))}};
  return study_from_json(impl_->call("POST", "/v1/studies", &body));
}

std::vector<StudyInfo> Client::list_studies() {
  const json reply = impl_->call("GET", "/v1/studies", nullptr);
  std::vector<StudyInfo> out;
  if (!reply.contains("studies") || !reply["studies"].is_array()) {
    throw Error("the gpbo server sent no study list");
  }
  for (const json& s : reply["studies"]) out.push_back(study_from_json(s));
  return out;
}

StudyInfo Client::get_study(const std::string& name) {
  return study_from_json(impl_->call("GET", Impl::study_path(name), nullptr));
}

void Client::delete_study(const std::string& name) {
  impl_->call("DELETE", Impl::study_path(name), nullptr);
}

namespace {

std::vector<StoredTrial> trials_from_reply(const json& reply) {
  if (!reply.contains("trials") || !reply["trials"].is_array()) {
    throw Error("the gpbo server sent no trial list");
  }
  std::vector<StoredTrial> out;
  for (const json& t : reply["trials"]) out.push_back(trial_from_json(t));
  return out;
}

}  // namespace

std::vector<StoredTrial> Client::ask(const std::string& study, int q,
                                     const std::string& worker_id) {
  const json body = {{"q", q}, {"worker_id", worker_id}};
  return trials_from_reply(impl_->call("POST", Impl::study_path(study) + "/ask", &body));
}

StoredTrial Client::tell(const std::string& study, std::int64_t trial, double value,
                         bool skip_if_finished) {
  const json body = {{"value", value}, {"skip_if_finished", skip_if_finished}};
  return trial_from_json(impl_->call("POST", Impl::trial_path(study, trial) + "/tell", &body));
}

StoredTrial Client::tell_state(const std::string& study, std::int64_t trial, TrialState state,
                               bool skip_if_finished) {
  const json body = {{"state", to_string(state)}, {"skip_if_finished", skip_if_finished}};
  return trial_from_json(impl_->call("POST", Impl::trial_path(study, trial) + "/tell", &body));
}

StoredTrial Client::heartbeat(const std::string& study, std::int64_t trial) {
  const json body = json::object();
  return trial_from_json(impl_->call("POST", Impl::trial_path(study, trial) + "/heartbeat", &body));
}

void Client::enqueue(const std::string& study, const json& params) {
  const json body = {{"params", params}};
  impl_->call("POST", Impl::study_path(study) + "/enqueue", &body);
}

std::optional<StoredTrial> Client::best(const std::string& study) {
  try {
    return trial_from_json(impl_->call("GET", Impl::study_path(study) + "/best", nullptr));
  } catch (const NotFound&) {
    // Either the study or a complete trial is missing; ask which.
    get_study(study);
    return std::nullopt;
  }
}

std::vector<StoredTrial> Client::trials(const std::string& study) {
  return trials_from_reply(impl_->call("GET", Impl::study_path(study) + "/trials", nullptr));
}

}  // namespace gpbo::server
