"""lossarticle: train small nets on a spiral, map their loss landscapes, publish an article."""
