"""Job time: what a rule's job runs (finetuning, labelling and predicting, cross-fitted labels, the weak_val early
stop, a linear probe's run), started through w2s.process; the task kind decides what each does with its rows
(w2s.kinds). Nothing at parse time imports these."""
