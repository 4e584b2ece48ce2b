"""CAReDiO's cultural data synthesis pipeline (paper 002 §3.2).

Three stages, each reading and writing a JSONL file of records from
``culturalign.records.synth`` so a user can enter at any stage:

* ``synth.questions``  general questions per framework topic (self-instruct style);
* ``synth.adapt``      culture-adaptive rewriting of each general question;
* ``synth.respond``    distinctive responses through cognitive conflict.

Selection (§3.3) lives in ``culturalign.select``. Nothing heavy is imported here.
"""
