// Datasets and data loading.
import Ember
