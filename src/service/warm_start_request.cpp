#include "service/warm_start_request.hpp"

#include "codec/warm_start_json.hpp"
#include "gpbo/error.hpp"
#include "gpbo/persistent_study.hpp"

namespace gpbo::service {

using nlohmann::json;

json warm_start_request_to_json(const WarmStartRequest& w) {
  json arr = json::array();
  for (const std::string& s : w.studies) arr.push_back(s);
  for (const WarmStartSource& s : w.sources) arr.push_back(warm_start_source_to_json(s));
  return arr;
}

WarmStartRequest warm_start_request_from_json(const json& j) {
  if (!j.is_array()) {
    throw InvalidArgument("warm_start must be an array of study names or source objects");
  }
  WarmStartRequest w;
  for (const json& item : j) {
    if (item.is_string()) {
      w.studies.push_back(item.get<std::string>());
    } else if (item.is_object()) {
      w.sources.push_back(warm_start_source_from_json(item));
    } else {
      throw InvalidArgument("warm_start: " + item.dump() +
                            " is neither a study name nor a source object");
    }
  }
  return w;
}

std::vector<WarmStartSource> resolve_warm_start(Storage& storage, const std::string& name,
                                                const WarmStartRequest& w) {
  std::vector<WarmStartSource> out;
  for (const std::string& s : w.studies) {
    if (s == name)
      throw InvalidArgument("warm start: study '" + name + "' cannot learn from itself");
    out.push_back(PersistentStudy::warm_start_source(storage, s));
  }
  out.insert(out.end(), w.sources.begin(), w.sources.end());
  return out;
}

}  // namespace gpbo::service
