// Optimizers and learning-rate schedulers.
import Ember
