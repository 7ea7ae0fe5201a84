#pragma once
// The warm start of a create-study request, as every front door gives it: studies of the same
// store by name, and sources given inline (an exported study file the CLI read). JSON form (the
// HTTP body's and the C API's "warm_start"): an array whose items are study names or source
// objects ({"study", "direction", "observations"}, codec/warm_start_json.hpp).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gpbo/storage.hpp"
#include "gpbo/warm_start.hpp"

namespace gpbo::service {

struct WarmStartRequest {
  /// Studies of the store the new study is created in.
  std::vector<std::string> studies;
  /// Sources given with the request.
  std::vector<WarmStartSource> sources;
  bool empty() const { return studies.empty() && sources.empty(); }
};

nlohmann::json warm_start_request_to_json(const WarmStartRequest& w);
/// Reads the array form; InvalidArgument when it is not an array of names and source objects.
WarmStartRequest warm_start_request_from_json(const nlohmann::json& j);

/// The sources of a request for the new study `name` in `storage`: the named studies' complete
/// trials (PersistentStudy::warm_start_source), then the inline sources. InvalidArgument for a
/// study that names itself or is missing.
std::vector<WarmStartSource> resolve_warm_start(Storage& storage, const std::string& name,
                                                const WarmStartRequest& w);

}  // namespace gpbo::service
