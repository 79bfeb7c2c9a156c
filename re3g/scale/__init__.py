"""Scale-out with Ray: encoding passages with Ray Data (:mod:`re3g.scale.ray_index`),
evaluation spread over workers (:mod:`re3g.scale.ray_evaluate`) and serving replicas with Ray
Serve (:mod:`re3g.scale.serve`); :mod:`re3g.scale.cluster` starts or joins the cluster.

Ray is optional (the ``scale`` extra); nothing outside this package and the CLI imports it.
"""
