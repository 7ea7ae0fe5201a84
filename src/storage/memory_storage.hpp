#pragma once
// The in-memory store behind "memory://": this process only, gone when the object is.

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gpbo/storage.hpp"

namespace gpbo {

/// Studies in process memory. One mutex serializes every call; write() runs `fn` against a copy
/// of the study's trials and state and swaps them in only when `fn` returns, so a throwing `fn`
/// leaves nothing changed. Calling back into the store from inside `fn` throws StorageError
/// (instead of deadlocking), as the SQLite store does.
class MemoryStorage final : public Storage {
 public:
  MemoryStorage() = default;

  void create_study(const StudyInfo& info) override;
  std::vector<StudyInfo> list_studies() override;
  void delete_study(const std::string& name) override;
  void write(const std::string& study, const std::function<void(StudyTransaction&)>& fn) override;
  void read(const std::string& study, const std::function<void(StudyTransaction&)>& fn) override;
  std::vector<LogEntry> log(const std::string& study) override;

  /// Everything kept about one study.
  struct StudyData {
    StudyInfo info;
    Space space;
    std::vector<Trial> trials;
    std::vector<LogEntry> log;
  };

 private:
  /// Holds mutex_ for one call; throws StorageError when this thread already holds it.
  class Lock {
   public:
    explicit Lock(MemoryStorage& storage);
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    MemoryStorage& storage_;
  };

  StudyData& find(const std::string& study);

  std::mutex mutex_;
  /// The thread inside a call, to turn re-entrant calls into errors rather than deadlocks.
  std::atomic<std::thread::id> owner_{};
  std::map<std::string, StudyData> studies_;
};

}  // namespace gpbo
