//===- Parallel.cpp - the kernels' worker threads -------------------------===//

#include "dialect/interpreter/kernels/Parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tpuc::interpreter {
namespace {

thread_local bool insideParallelRegion = false;

class WorkerPool {
public:
  explicit WorkerPool(int threads) {
    for (int i = 1; i < threads; ++i)
      workers.emplace_back([this] { workLoop(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &worker : workers)
      worker.join();
  }

  int size() const { return int(workers.size()) + 1; }

  void run(int64_t chunks, const std::function<void(int64_t)> &chunkBody) {
    std::lock_guard<std::mutex> serialize(runMutex);
    {
      std::lock_guard<std::mutex> lock(mutex);
      body = &chunkBody;
      chunkCount = chunks;
      nextChunk = 0;
      pending = chunks;
      error = nullptr;
      ++generation;
    }
    wake.notify_all();
    takeChunks();
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [this] { return pending == 0; });
    body = nullptr;
    if (error)
      std::rethrow_exception(error);
  }

private:
  void workLoop() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return stopping || generation != seen; });
        if (stopping)
          return;
        seen = generation;
      }
      takeChunks();
    }
  }

  void takeChunks() {
    insideParallelRegion = true;
    for (;;) {
      int64_t chunk;
      const std::function<void(int64_t)> *current;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (!body || nextChunk >= chunkCount)
          break;
        chunk = nextChunk++;
        current = body;
      }
      std::exception_ptr failure;
      try {
        (*current)(chunk);
      } catch (...) {
        failure = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (failure && !error)
        error = failure;
      if (--pending == 0)
        done.notify_all();
    }
    insideParallelRegion = false;
  }

  std::vector<std::thread> workers;
  std::mutex runMutex; // one parallel region at a time
  std::mutex mutex;
  std::condition_variable wake, done;
  const std::function<void(int64_t)> *body = nullptr;
  int64_t chunkCount = 0, nextChunk = 0, pending = 0;
  uint64_t generation = 0;
  bool stopping = false;
  std::exception_ptr error;
};

int configuredThreads() {
  if (const char *env = std::getenv("TPUC_INTERPRETER_THREADS")) {
    int value = std::atoi(env);
    if (value >= 1)
      return std::min(value, 256);
  }
  unsigned hardware = std::thread::hardware_concurrency();
  return hardware ? int(std::min(hardware, 64u)) : 1;
}

WorkerPool &pool() {
  static WorkerPool instance(configuredThreads());
  return instance;
}

} // namespace

int workerThreadCount() { return pool().size(); }

void parallelFor(int64_t count, int64_t grain, const std::function<void(int64_t, int64_t)> &body) {
  if (count <= 0)
    return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = std::min<int64_t>(workerThreadCount(), (count + grain - 1) / grain);
  if (chunks <= 1 || insideParallelRegion) {
    body(0, count);
    return;
  }
  int64_t per = (count + chunks - 1) / chunks;
  chunks = (count + per - 1) / per;
  pool().run(chunks, [&](int64_t chunk) {
    int64_t begin = chunk * per;
    body(begin, std::min(count, begin + per));
  });
}

} // namespace tpuc::interpreter
