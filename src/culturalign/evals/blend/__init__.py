"""BLEnD: short answers under the official scoring rules, and its multiple-choice form."""
