package delivery

// Recorded is how many attempts this deliverer has recorded since it
// started, by its workers, restarts and debugger calls: a page showing
// what is pending refreshes when it changes.
func (d *Deliverer) Recorded() int { return d.count() }
