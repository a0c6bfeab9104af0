// CommandHandler: executes one chat command against the store and says what to answer.
// Each accepted change is committed before `handle` returns, so an adapter that
// acknowledges after `handle` never acknowledges something that could be lost.
#pragma once

#include <memory>

#include "commands/invocation.h"
#include "storage/store.h"

namespace date {
class time_zone;
}

namespace scribe {

class CommandHandler {
 public:
  // `zone` reads backdated wall-clock times ("14:05") and shows local dates; never null.
  CommandHandler(Store& store, const date::time_zone* zone);

  // Never throws for bad user input: that becomes a helpful ephemeral reply.
  // Throws StoreError when the store itself fails (the adapter answers 5xx).
  Reply handle(const Invocation& invocation);

 private:
  Store& store_;
  const date::time_zone* zone_;
};

}  // namespace scribe
