// The task a label column describes, for `driftwatch check` when neither `--task` nor the config's
// `performance.task` names it (the stream's config always names it):
//   every label a boolean, or the number 0 or 1   binary, positive class '1' (1 or true)
//   every label a number, some other than 0 / 1    regression
//   any label a string                             multiclass (macro averages); two string
//                                                  classes are binary only when told which is
//                                                  positive (`--task binary --positive-class x`)
// Integer classes other than 0 / 1 (3 classes coded 0, 1, 2) read as regression: name the task.
// Pure: labels in, a task out.

import type { FeatureValue } from '../events.js'
import type { PerformanceTask } from './summary.js'

export class LabelTaskObserver {
  #labels = 0
  #strings = false
  #otherNumbers = false

  observe(label: FeatureValue): void {
    if (label === null) return
    this.#labels++
    if (typeof label === 'string') this.#strings = true
    else if (typeof label === 'number' && label !== 0 && label !== 1) this.#otherNumbers = true
  }

  /** The task the labels seen describe; binary when none was seen (nothing to score anyway). */
  task(): PerformanceTask {
    if (this.#strings) return 'multiclass'
    if (this.#otherNumbers) return 'regression'
    return 'binary'
  }
}
