#pragma once
// The study service over HTTP: a client of `gpbo serve`, so that the CLI's commands run unchanged
// against a server (`--server URL`). Server errors come back as the typed errors they were
// raised as (the body's code, by service/error_table.hpp; 401 and other 4xx as InvalidArgument,
// other 5xx as Error); a server that cannot be reached is a StorageError.

#include <memory>
#include <string>

#include "service/study_service.hpp"

namespace gpbo::service {

/// How a RemoteStudyService talks to its server.
struct RemoteOptions {
  double timeout_seconds = 300.0;
  /// PEM file of the CA certificates that an https:// server's certificate must chain to (a
  /// private CA); empty: the system's CAs. The certificate and host name are always verified.
  std::string ca_file;
  /// Send the token over http:// to a host that is not loopback (refused without this).
  bool insecure_http = false;
  /// Sent with tell and heartbeat: a worker token may only report trials its worker id holds.
  std::string worker_id;
};

class RemoteStudyService final : public StudyService {
 public:
  /// `url` is "http://HOST:PORT" or "https://HOST:PORT"; `token` is sent as a bearer token when
  /// not empty. InvalidArgument for a malformed URL, an unreadable ca_file, or a token for a
  /// non-loopback http:// URL without insecure_http. Connects lazily.
  RemoteStudyService(const std::string& url, const std::string& token,
                     const RemoteOptions& options);
  RemoteStudyService(const std::string& url, const std::string& token,
                     double timeout_seconds = 300.0);
  ~RemoteStudyService() override;

  StudyInfo create_study(const std::string& name, const Space& space, const StudyOptions& options,
                         const PersistenceOptions& persistence) override;
  StudyInfo create_warm_started_study(const std::string& name, const Space& space,
                                      const StudyOptions& options,
                                      const PersistenceOptions& persistence,
                                      const WarmStartRequest& warm) override;
  std::vector<StudyInfo> list_studies() override;
  StudyInfo get_study(const std::string& name) override;
  void delete_study(const std::string& name) override;
  std::vector<Trial> ask(const std::string& study, int q, const std::string& worker_id,
                         const nlohmann::json& fixed = nlohmann::json::object()) override;
  Trial tell(const std::string& study, std::int64_t trial, double value,
             bool skip_if_finished) override;
  Trial tell_values(const std::string& study, std::int64_t trial, const MetricValues& values,
                    bool skip_if_finished) override;
  Trial tell_state(const std::string& study, std::int64_t trial, TrialState state,
                   bool skip_if_finished) override;
  Trial heartbeat(const std::string& study, std::int64_t trial) override;
  PruneAnswer report_value(const std::string& study, std::int64_t trial, std::int64_t step,
                           double value) override;
  bool should_prune(const std::string& study, std::int64_t trial) override;
  StudyCost cost(const std::string& study) override;
  void enqueue(const std::string& study, const nlohmann::json& params) override;
  std::vector<Trial> add_trials(const std::string& study,
                                const std::vector<Trial>& trials) override;
  std::optional<Trial> best(const std::string& study) override;
  ParetoFront pareto(const std::string& study) override;
  std::vector<std::int64_t> outliers(const std::string& study) override;
  nlohmann::json drift(const std::string& study) override;
  std::vector<Trial> trials(const std::string& study) override;
  Trial trial(const std::string& study, std::int64_t trial) override;
  std::vector<LogEntry> log(const std::string& study) override;
  std::string report(const std::string& study) override;
  VerifyReport verify(const std::string& study) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
std::string encode_path_segment(const std::string& segment);

}  // namespace gpbo::service
