// The delivery keys of the [alerts] table: [[alerts.webhook]] receivers and
// [[alerts.alertmanager]] pushes. LoadNotifierConfig (notifier.h) reads what these declare.
#pragma once

#include "config/config.h"

namespace tacho::webhook {

const config::Schema& DeliverySchema();

}  // namespace tacho::webhook
