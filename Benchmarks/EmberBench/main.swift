import Ember
