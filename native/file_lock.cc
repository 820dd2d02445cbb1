// An exclusive, non-blocking flock(2) on a file or directory (the speaker's pin directory): the kernel
// drops it when the process dies, so a second speaker on the host fails at once and a crashed one never
// leaves a stale lock. Node has no flock.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common.h"

namespace herald {
namespace {

// lockExclusive(path) -> fd holding the lock (release with closeFd); throws EWOULDBLOCK when held.
Napi::Value LockExclusive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return env.Undefined();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ThrowErrno(env, "open", errno, path);
    return env.Undefined();
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, "flock", err, path);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

}  // namespace

void InitFileLock(Napi::Env env, Napi::Object exports) {
  exports.Set("lockExclusive", Napi::Function::New(env, LockExclusive, "lockExclusive"));
}

}  // namespace herald
