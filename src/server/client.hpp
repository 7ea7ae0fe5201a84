#pragma once
// The HTTP client of `gpbo serve`: the StudyApi over the network, so that the CLI's commands run
// unchanged against a server (`--server URL`). Server errors come back as the typed errors they
// were raised as (404 NotFound, 409 Conflict, 400/401/413 InvalidArgument, 503 StorageError,
// other 5xx Error); a server that cannot be reached is a StorageError.

#include <memory>
#include <string>

#include "server/study_api.hpp"

namespace gpbo::server {

class Client final : public StudyApi {
 public:
  /// `url` is "http://HOST:PORT" (or https:// where cpp-httplib has TLS); `token` is sent as a
  /// bearer token when not empty. InvalidArgument for a malformed URL. Connects lazily.
  Client(const std::string& url, const std::string& token, double timeout_seconds = 300.0);
  ~Client() override;

  StudyInfo create_study(const std::string& name, const Space& space, const StudyOptions& options,
                         const PersistenceOptions& persistence) override;
  std::vector<StudyInfo> list_studies() override;
  StudyInfo get_study(const std::string& name) override;
  void delete_study(const std::string& name) override;
  std::vector<StoredTrial> ask(const std::string& study, int q,
                               const std::string& worker_id) override;
  StoredTrial tell(const std::string& study, std::int64_t trial, double value,
                   bool skip_if_finished) override;
  StoredTrial tell_state(const std::string& study, std::int64_t trial, TrialState state,
                         bool skip_if_finished) override;
  StoredTrial heartbeat(const std::string& study, std::int64_t trial) override;
  void enqueue(const std::string& study, const nlohmann::json& params) override;
  std::optional<StoredTrial> best(const std::string& study) override;
  std::vector<StoredTrial> trials(const std::string& study) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
std::string encode_path_segment(const std::string& segment);

}  // namespace gpbo::server
